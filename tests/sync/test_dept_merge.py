"""The department store's merge in SQL (fieldlog/db/remotes/dept_schema.py) agrees with the
laptops' merge in Python (fieldlog.merge) on random histories, on a real PostgreSQL server.

A history is a few records (contacts, their concerns and referrals, an organization), each
changed several times by two devices with stamps drawn from a small set (so equal stamps
meet, with different values: the ``value_key`` tie-break), values with quotes, backslashes,
line breaks and text outside ASCII, deletes (children of deleted contacts included), contacts
pushed by an older fieldlog (no review fields), and rows no fieldlog wrote. The rows go into
``fieldlog_changes`` in one INSERT, as a push does; then ``fieldlog.state`` must equal the fold
of :func:`fieldlog.merge.merge` over the same changes in the same order (values and every
field's effective stamp), whatever the order, and the typed tables must hold exactly the live
records whose parent is live.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldlog import merge, models, pulled, records
from fieldlog.db.remotes import dept_schema as D

pytestmark = pytest.mark.pg

AGENCY = "default"
ADDED: dict[str, tuple[str, ...]] = getattr(pulled, "ADDED_FIELDS", {})
INSERT = """
INSERT INTO fieldlog.fieldlog_changes (seq, origin, origin_seq, tbl, row_id, hlc, body)
SELECT u.seq, 'dev', u.seq, u.tbl, u.row_id, u.hlc, u.body
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[])
     AS u (seq, tbl, row_id, hlc, body)
"""
CLEAR = "TRUNCATE fieldlog.fieldlog_changes, fieldlog.state, " + ", ".join(
    f"fieldlog.{t}" for t in records.TABLES
)
Change = tuple[str, str, str]  # (tbl, row_id, body text)

# ---------------------------------------------------------------------- what a change holds
IDS = {
    "contacts": [f"{i:x}" * 32 for i in (1, 2, 3)],
    "concerns": [f"{i:x}" * 32 for i in (4, 5)],
    "referrals": [f"{i:x}" * 32 for i in (6,)],
    "organizations": [f"{i:x}" * 32 for i in (7,)],
    "problems": [f"{i:x}" * 32 for i in (8, 9)],
    "problem_links": [f"{i:x}" * 32 for i in (10,)],
    "problem_entries": [f"{i:x}" * 32 for i in (11, 12)],
}
assert set(IDS) == set(records.TABLES), "give each record table ids here"
# A record's creation (who, on which device, when) is the same in each of its changes.
META = {
    rid: {
        "officer": f"Officer {n} «é»",
        "origin": f"dev{n % 2}",
        "created_at": f"2023-11-1{n}T08:00:00Z",
    }
    for n, rid in enumerate(rid for ids in IDS.values() for rid in ids)
}
STAMPS = [
    f"{1700000000000 + wall * 1000:013d}-{counter:05d}-{device}"
    for wall in (0, 1, 2)
    for counter in (0, 1)
    for device in ("d1", "d2")
]
UPDATED = ["2023-11-20T10:00:00Z", "2023-11-20T10:00:00.250Z", "2023-11-21T09:00:00Z"]
TEXTS = ["a", "b", 'Zoë "q" ünïcödé', "back\\slash", "𝄞 astral", "tab\tand\nline", " x ", "z"]


def _candidates(tbl: str, name: str) -> list[Any]:
    words = pulled.vocabulary_words()  # every vocabulary's words
    if name in records.get(tbl).lists:
        return ["[]", *(json.dumps([w]) for w in words), json.dumps(["food", "housing"])]
    if name in D.TIME_COLUMNS:
        return [None, "2023-11-14T22:13:20Z", "2023-11-15T01:00:00.5Z"]
    if name in D.DAY_COLUMNS:
        return [None, "2023-12-01", "2024-02-29"]
    if name in pulled.ID_FIELDS[tbl]:
        return [None, *(ids[0] for ids in IDS.values())]
    return [None, *TEXTS, *words]


def _pool(tbl: str, name: str) -> list[Any]:
    """The values a fieldlog could have stored in the field (as pulled.check_value says)."""
    out = []
    for value in _candidates(tbl, name):
        try:
            pulled.check_value(tbl, name, value)
        except pulled.Invalid:
            continue
        out.append(value)
    assert out, (tbl, name)
    return out


POOLS = {t: {f: _pool(t, f) for f in records.TABLE_FIELDS[t]} for t in records.TABLES}
GARBAGE = [
    ("contacts", IDS["contacts"][0], "not json"),
    ("contacts", IDS["contacts"][0], "[1, 2]"),
    ("contacts", IDS["contacts"][0], '{"values": 3, "clocks": {}}'),
    ("contacts", IDS["contacts"][0], '{"values": {}, "clocks": {}}'),
    ("contacts", "NOT-AN-ID", "{}"),
    ("nonsense", IDS["contacts"][0], "{}"),
    ("contacts", IDS["contacts"][0], '{"values": {"deleted": "\\u0000"}}'),
]
VALUE = {t: {f: st.sampled_from(pool) for f, pool in POOLS[t].items()} for t in records.TABLES}
STAMP = st.sampled_from(STAMPS)
# The record's creation stamp: the same in every change of it (a laptop's ``*``).
CREATED = {rid: STAMPS[n % 3] for n, rid in enumerate(META)}


@st.composite
def changes(draw: st.DrawFn, laptop_like: bool) -> Change:
    """One change of one record, as a laptop (perhaps an older one) would push it; or
    (rarely) a broken version of one. ``laptop_like=False``: the record's ``*`` differs
    between its changes and a review field holds any value at it, which no laptop writes
    (two orders may then end differently on laptops too: only one order is compared)."""
    tbl = draw(st.sampled_from(records.TABLES))
    rid = draw(st.sampled_from(IDS[tbl]))
    r = records.get(tbl)
    values: dict[str, Any] = {name: draw(VALUE[tbl][name]) for name in r.fields}
    if r.whole is not None and tbl == "problem_links":  # a link names exactly one record
        target = draw(st.sampled_from(sorted(models.PROBLEM_LINK_COLUMNS.items())))
        for col in models.PROBLEM_LINK_COLUMNS.values():
            values[col] = IDS[target[0]][0] if col == target[1] else None
    if r.parent:  # each child belongs to one parent, the first or the second
        parents = IDS[r.parent[0]]
        values[r.parent[1]] = parents[IDS[tbl].index(rid) % min(2, len(parents))]
    values["deleted"] = draw(st.sampled_from([0, 0, 1]))
    star = CREATED[rid] if laptop_like else draw(STAMP)
    clocks = {"*": star}
    for name in draw(st.lists(st.sampled_from([*r.fields, "deleted"]), max_size=5)):
        clocks[name] = draw(STAMP)
    for name in ADDED.get(tbl, ()) if laptop_like else ():
        # A field a change lacks takes the record's ``*`` where it is missing; a laptop
        # only writes a newer stamp on it, or the creation's value (the column default).
        if name in clocks and clocks[name] <= star:
            clocks[name] = STAMPS[-1]
        if name not in clocks:
            values[name] = D._default(tbl, name)
    if ADDED.get(tbl) and draw(st.booleans()):  # pushed by an older fieldlog
        for name in ADDED[tbl]:
            values.pop(name)
            clocks.pop(name, None)
    body = {
        **META[rid],
        "updated_at": draw(st.sampled_from(UPDATED)),
        "values": values,
        "clocks": clocks,
        "changed": draw(st.sampled_from([["*"], sorted(clocks)[:2], []])),
    }
    text = json.dumps(body, ensure_ascii=draw(st.booleans()))
    broken = draw(st.integers(0, 12))
    if broken == 1:
        return draw(st.sampled_from(GARBAGE))
    if broken == 2:  # a value of the wrong kind (mostly): the whole change stays out
        name = draw(st.sampled_from(sorted(values)))
        values[name] = draw(st.sampled_from([{"x": 1}, [1], 2.5, True, "2023-13-45T00:00:00Z"]))
        text = json.dumps(body)
    return tbl, rid, text


# ---------------------------------------------------------------------- the Python side
def fold(history: list[Change]) -> dict[tuple[str, str], dict[str, Any]]:
    """The state a laptop reaches by pulling ``history`` in this order (fieldlog.merge.merge
    over every change that pulled.check accepts; a laptop quarantines the others)."""
    state: dict[tuple[str, str], dict[str, Any]] = {}
    for tbl, rid, text in history:
        try:
            body = json.loads(text)
            checked = pulled.check(tbl, rid, body)
        except ValueError:  # pulled.Invalid too
            continue
        cur = state.get((tbl, rid))
        result = merge.merge(
            cur and cur["vals"], cur and cur["clocks"], tbl, body, set(), checked.fields
        )
        if result.action == "insert":
            vals = {f: D._default(tbl, f) for f in ADDED.get(tbl, ())}  # the column defaults
            state[(tbl, rid)] = {
                "vals": {**vals, **result.values},
                "clocks": result.clocks,
                **{k: body[k] for k in ("officer", "origin", "created_at", "updated_at")},
            }
            continue
        assert cur is not None
        if result.action == "update":
            cur["vals"].update(result.values)
            cur["clocks"] = result.clocks
        cur["updated_at"] = max(cur["updated_at"], body["updated_at"])
    return state


def effective(tbl: str, clocks: dict[str, str]) -> dict[str, str]:
    return {f: merge.stamp_of(clocks, f) for f in ("*", *merge.SYNC_FIELDS[tbl])}


def shown(state: dict[tuple[str, str], dict[str, Any]]) -> dict[str, set[str]]:
    """The records each typed table shows: live, with a live parent."""
    out: dict[str, set[str]] = {t: set() for t in records.TABLES}
    for (tbl, rid), rec in state.items():
        parent = records.get(tbl).parent
        if rec["vals"]["deleted"]:
            continue
        if parent:
            up = state.get((parent[0], rec["vals"][parent[1]]))
            if up is None or up["vals"]["deleted"]:
                continue
        out[tbl].add(rid)
    return out


def typed(tbl: str, name: str, value: Any) -> Any:
    """A stored value as the typed table's column holds it."""
    sql_type = dict((f, t) for f, _, t in D.TYPED_COLUMNS[tbl])[name]
    if value is None or sql_type == "text":
        return value
    if sql_type == "text[]":
        return json.loads(value)
    if sql_type == "date":
        return date.fromisoformat(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# ---------------------------------------------------------------------- the SQL side
@pytest.fixture
def dept_db(pg_url: str) -> Iterator[Any]:
    """A department layout (schema fieldlog, the default agency's partitions) in a fresh
    database; an autocommit connection to it as the owner."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        with conn.transaction():
            for sql in [*D.schema_ddl(), *D.partition_ddl(AGENCY)]:
                conn.execute(sql)
        yield conn


def push(conn: Any, history: list[Change], first: int = 1) -> None:
    seqs = list(range(first, first + len(history)))
    tbls, rids, bodies = (list(col) for col in zip(*history, strict=True)) if history else ([],) * 3
    conn.execute(INSERT, [seqs, tbls, rids, [STAMPS[0]] * len(history), bodies])


def sql_state(conn: Any) -> dict[tuple[str, str], dict[str, Any]]:
    rows = conn.execute(
        "SELECT tbl, id, vals, clocks, deleted, officer, origin, created_at, updated_at, agency "
        "FROM fieldlog.state"
    ).fetchall()
    out = {}
    for tbl, rid, vals, clocks, deleted, officer, origin, created, updated, agency in rows:
        assert deleted == vals["deleted"] and agency == AGENCY
        meta = {"officer": officer, "origin": origin, "created_at": created, "updated_at": updated}
        out[(tbl, rid)] = {"vals": vals, "clocks": clocks, **meta}
    return out


def same_state(got: dict, want: dict, *, star: bool = True) -> None:
    """The same records, values, effective stamps and creation details. ``star=False``:
    another order of the same changes, where the record's ``*`` (the first change's, never
    merged) may differ, as it does between two laptops."""
    assert got.keys() == want.keys()
    for key, rec in want.items():
        tbl = key[0]
        assert got[key]["vals"] == rec["vals"], key
        mine, theirs = effective(tbl, got[key]["clocks"]), effective(tbl, rec["clocks"])
        if not star:
            mine.pop("*"), theirs.pop("*")
        assert mine == theirs, key
        for k in ("officer", "origin", "created_at", "updated_at"):
            assert got[key][k] == rec[k], (key, k)


def check_typed(conn: Any, state: dict[tuple[str, str], dict[str, Any]]) -> None:
    for tbl, want in shown(state).items():
        cols = [c for _, c, _ in D.TYPED_COLUMNS[tbl]]
        rows = conn.execute(
            f"SELECT id, agency, officer, hlc, {', '.join(cols)} FROM fieldlog.{tbl}"
        ).fetchall()
        assert {r[0] for r in rows} == want, tbl
        for rid, agency, officer, hlc, *values in rows:
            rec = state[(tbl, rid)]
            assert agency == AGENCY and officer == rec["officer"]
            assert hlc == max(rec["clocks"].values())
            for (name, _, _), value in zip(D.TYPED_COLUMNS[tbl], values, strict=True):
                assert value == typed(tbl, name, rec["vals"].get(name)), (tbl, name)


# ---------------------------------------------------------------------- the properties
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(laptop_like=st.booleans(), data=st.data())
def test_the_sql_state_is_the_python_merge_of_the_log(dept_db, laptop_like, data):
    conn = dept_db
    history = data.draw(st.lists(changes(laptop_like), min_size=1, max_size=20))
    conn.execute(CLEAR)
    push(conn, history)  # one statement, as a push page: a garbage row never fails it
    assert conn.execute("SELECT count(*) FROM fieldlog.fieldlog_changes").fetchone()[0] == len(
        history
    )
    want = fold(history)
    same_state(sql_state(conn), want)
    check_typed(conn, want)

    shuffled = data.draw(st.permutations(history))  # another order: the same state
    conn.execute(CLEAR)
    half = len(shuffled) // 2  # in two pushes
    push(conn, shuffled[:half])
    push(conn, shuffled[half:], first=half + 1)
    again = sql_state(conn)
    same_state(again, fold(shuffled))
    if laptop_like:  # as laptops write them, changes merge in any order to one state
        same_state(again, want)
    check_typed(conn, again)

    assert conn.execute("SELECT fieldlog.replay()").fetchone()[0] == sum(
        1 for tbl, rid, text in shuffled if _accepted(tbl, rid, text)
    )
    same_state(sql_state(conn), again)  # replay folds the log in seq order
    check_typed(conn, again)


def _accepted(tbl: str, rid: str, text: str) -> bool:
    try:
        pulled.check(tbl, rid, json.loads(text))
    except ValueError:
        return False
    return True


_TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(_TEXT, min_size=1, max_size=20))
def test_value_key_is_json_dumps(dept_db, texts):
    got = dept_db.execute(
        "SELECT fieldlog.value_key(to_jsonb(t)) FROM unnest(%s::text[]) WITH ORDINALITY AS "
        "u(t, o) ORDER BY o",
        [texts],
    ).fetchall()
    assert [g[0] for g in got] == [json.dumps(t, sort_keys=True) for t in texts]


def test_value_key_of_null_numbers_and_control_characters(dept_db):
    values = [None, 0, 1, "", "\x01\x1f\x7f\x80", '"\\/', "\u2028\ufeff", "😀𝄞", "\b\f\n\r\t"]
    for value in values:
        got = dept_db.execute(
            "SELECT fieldlog.value_key(%s::jsonb)", [json.dumps(value)]
        ).fetchone()
        assert got[0] == merge.value_key(value), value
    assert dept_db.execute("SELECT fieldlog.value_key(NULL)").fetchone()[0] == "null"


# ---------------------------------------------------------------------- named cases
def _contact(rid: str, stamp: str, old: bool = False, **values: Any) -> Change:
    vals = {f: POOLS["contacts"][f][0] for f in records.TABLE_FIELDS["contacts"]}
    vals.update({"summary": "s", "occurred_at": "2023-11-14T22:13:20Z", "deleted": 0}, **values)
    for name in ADDED.get("contacts", ()) if old else ():
        vals.pop(name)
    body = {**META[rid], "updated_at": UPDATED[0], "values": vals, "clocks": {"*": stamp}}
    return "contacts", rid, json.dumps(body)


def _concern(rid: str, contact: str, stamp: str, deleted: int = 0) -> Change:
    vals = {f: POOLS["concerns"][f][-1] for f in records.TABLE_FIELDS["concerns"]}
    vals.update(contact_id=contact, deleted=deleted)
    body = {**META[rid], "updated_at": UPDATED[0], "values": vals, "clocks": {"*": stamp}}
    return "concerns", rid, json.dumps(body)


def _ids(conn: Any, tbl: str) -> set[str]:
    return {r[0] for r in conn.execute(f"SELECT id FROM fieldlog.{tbl}").fetchall()}


def test_a_child_shows_once_its_contact_does_and_goes_with_it(dept_db):
    c, k = IDS["contacts"][0], IDS["concerns"][0]
    push(dept_db, [_concern(k, c, STAMPS[0])])
    assert _ids(dept_db, "concerns") == set()  # its contact has not arrived
    push(dept_db, [_contact(c, STAMPS[0])], first=2)
    assert _ids(dept_db, "concerns") == {k}
    push(dept_db, [_contact(c, STAMPS[3], deleted=1)], first=3)
    assert _ids(dept_db, "contacts") == _ids(dept_db, "concerns") == set()
    row = dept_db.execute("SELECT deleted FROM fieldlog.state WHERE id = %s", [k]).fetchone()
    assert row == (0,)  # the concern itself lives on in the state, hidden with its contact


@pytest.mark.skipif(not ADDED.get("contacts"), reason="the registry has no added fields")
def test_an_older_laptops_change_leaves_the_review_fields_alone(dept_db):
    c = IDS["contacts"][0]
    name = ADDED["contacts"][0]
    other = next(v for v in POOLS["contacts"][name] if v != D._default("contacts", name))
    push(dept_db, [_contact(c, STAMPS[0], **{name: other})])
    push(dept_db, [_contact(c, STAMPS[-1], old=True, summary="newer")], first=2)
    vals = dept_db.execute("SELECT vals FROM fieldlog.state").fetchone()[0]
    assert vals["summary"] == "newer" and vals[name] == other


def test_a_body_no_fieldlog_wrote_never_fails_the_insert_nor_changes_state(dept_db):
    c = IDS["contacts"][0]
    push(dept_db, [_contact(c, STAMPS[0], summary="kept")])
    bad = json.loads(_contact(c, STAMPS[-1], summary="bad")[2])
    bad["values"]["occurred_at"] = "2023-02-30T00:00:00Z"  # no such day: the cast fails
    ahead = _contact(c, "3000000000000-00000-d1", summary="2065")  # laptops refuse it
    assert not _accepted(*ahead)
    push(dept_db, [*GARBAGE, ("contacts", c, json.dumps(bad)), ahead], first=2)
    assert dept_db.execute("SELECT vals->>'summary' FROM fieldlog.state").fetchone() == ("kept",)
    assert dept_db.execute("SELECT summary FROM fieldlog.contacts").fetchone() == ("kept",)


def test_a_push_page_of_2000_changes_stays_cheap(dept_db):
    """One push page (2000 changes: 1000 new contacts, then an edit of each) through the
    trigger; the bound is loose (a shared 2-core machine), the figure is in the message."""
    rids = [f"{n:032x}" for n in range(1000)]
    for rid in rids:
        META.setdefault(rid, META[IDS["contacts"][0]])
    page = [_contact(rid, STAMPS[n % len(STAMPS)]) for n, rid in enumerate(rids)]
    page += [_contact(rid, STAMPS[-1], summary="second") for rid in rids]
    start = time.perf_counter()
    push(dept_db, page)
    took = time.perf_counter() - start
    assert dept_db.execute("SELECT count(*) FROM fieldlog.contacts").fetchone() == (1000,)
    assert dept_db.execute(
        "SELECT count(*) FROM fieldlog.contacts WHERE summary = 'second'"
    ).fetchone() == (1000,)
    assert took / len(page) < 0.005, f"{took / len(page) * 1000:.2f} ms per change"


def test_two_pushes_at_once_creating_one_record_both_count(dept_db, pg_url):
    """Laptops' pushes take a lock and never meet; any other writer's might: the second
    creation of a record waits for the first and merges into it (not lost to a unique key)."""
    import threading

    import psycopg

    c = IDS["contacts"][0]
    first = _contact(c, STAMPS[0], summary="first")
    second = _contact(c, STAMPS[0], beat="second")  # the same stamp: a tie on both fields
    with psycopg.connect(pg_url) as other:
        with dept_db.transaction():
            push(dept_db, [first])  # holds the new state row, uncommitted
            thread = threading.Thread(target=lambda: (push(other, [second], 2), other.commit()))
            thread.start()
            time.sleep(0.5)  # the second push now waits on the first's row
        thread.join(30)
    assert not thread.is_alive()
    same_state(sql_state(dept_db), fold([first, second]))


def test_only_the_trigger_folds_a_change(dept_db, pg_server, pg_url):
    """A login calling apply_change, project or replay itself could write any agency's state
    without a row in the log: only the owner may (the trigger runs as the owner)."""
    import psycopg

    login = f"h1_plain_{pg_url.rsplit('/', 1)[1]}"
    pg_server.execute(pg_url, f"CREATE ROLE {login} LOGIN PASSWORD 'pw'")
    pg_server.execute(pg_url, f"GRANT USAGE ON SCHEMA fieldlog TO {login}")
    try:
        with psycopg.connect(pg_server.url(pg_url.rsplit("/", 1)[1], user=login, password="pw"),
                             autocommit=True) as conn:  # fmt: skip
            for sql in (
                "SELECT fieldlog.apply_change('default', NULL, 'contacts', %s, '{}')",
                "SELECT fieldlog.project('default', 'contacts', %s)",
                "SELECT fieldlog.replay() WHERE %s::text IS NOT NULL",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(sql, [IDS["contacts"][0]])
            assert conn.execute("SELECT fieldlog.value_key('\"é\"')").fetchone() == ('"\\u00e9"',)
    finally:
        pg_server.execute(pg_url, f"DROP OWNED BY {login}")
        pg_server.execute(pg_url, f"DROP ROLE {login}")

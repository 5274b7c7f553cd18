"""A poisoned store: rows no fieldlog wrote, planted straight into the remote, on both backends.

Nothing invalid is ever applied (what a laptop holds after a sync is exactly what a typed write
could have stored), nothing is fatal (no traceback; the rest of the page applies, the cursor
moves, the push still runs), what did not apply is listed by ``fieldlog sync --held`` with its
reason, and every log still verifies. The poison comes signed by an enrolled laptop running a
modified fieldlog (so the content checks decide) or unsigned (then device trust quarantines it
first: either way it is quarantined; ``quarantined()`` says which reasons a test accepts).
On the department store (``any_url``'s ``dept``) the owner plants the poison with the signer's
login as its ``pushed_by`` (tests/lib/plant.py), as if that login's push had got past the
database's checks: the laptops' own checks must still decide.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldlog import pulled, records, sync
from fieldlog.db import audit
from fieldlog.db.pull import Pull
from fieldlog.db.remotes.types import RemoteChange
from fieldlog.db.store import Store
from fieldlog.db.synclog import _body_sql
from tests.lib import plant as P
from tests.lib.sync_helpers import do_sync, enroll, is_dept, url_for


# ---------------------------------------------------------------------- the world
@dataclass
class World:
    """A store with three enrolled laptops: ``a`` and ``b`` (honest), ``evil`` (enrolled, then
    running a modified fieldlog), a contact with a concern all of them hold."""

    url: str
    a: Store
    b: Store
    evil: Store
    cid: str
    kid: str
    n: int = 0

    def row_id(self) -> str:
        self.n += 1
        return f"{self.n:032x}"

    def poison(self, tbl: str, body: dict | str, *, rid: str | None = None, **kw) -> dict:
        """A change of ``tbl`` signed by ``evil`` (origin_seq far above its real ones)."""
        self.n += 1
        return P.signed(
            self.evil, self.url, tbl=tbl, row_id=rid or f"{self.n:032x}",
            hlc=kw.pop("hlc", P.stamp(self.evil.device_id())), body=body,
            origin_seq=10**9 + self.n,
        )  # fmt: skip

    def new_contact(self, **values) -> dict:
        """A valid body for a new contact (evil's own record as a template), then ``values``
        put in (``None`` as a value: the field dropped)."""
        body = P.body_of(self.a, "contacts", self.cid)
        stamp = P.stamp(self.evil.device_id())
        body["clocks"] = {"*": stamp}
        body["changed"] = ["*"]
        for k, v in values.items():
            if v is _DROP:
                body["values"].pop(k, None)
            else:
                body["values"][k] = v
        return body


_DROP = object()


def make_world(url: str, tmp: Path) -> World:
    a = Store.open(tmp / "a.db")
    b = Store.open(tmp / "b.db")
    evil = Store.open(tmp / "evil.db")
    a.set_officer("Dana Ruiz")
    b.set_officer("Sam Lee")
    evil.set_officer("Eve Mallory")
    enroll(url, a, b, evil)
    cid = a.contacts.add(
        {"summary": "Met the pastor", "neighborhood": "Eastside"},
        concerns=[{"category": "youth", "description": "no lit court"}],
    )
    kid = a.concerns.list()[0]["id"]
    for s in (a, b, evil):
        do_sync(s, url)
    return World(url, a, b, evil, cid, kid)


@pytest.fixture
def world(any_url, tmp_path):
    w = make_world(any_url, tmp_path)
    yield w
    for s in (w.a, w.b, w.evil):
        s.close()


# ---------------------------------------------------------------------- what must hold
def invalid_rows(store: Store) -> list[str]:
    """Every record the log holds that no typed write could have stored (should be none)."""
    bad = []
    for tbl in records.TABLES:
        for rid, hlc, body in store.conn.execute(_body_sql(tbl)):
            try:
                pulled.check(tbl, rid, {**json.loads(body), "changed": []}, hlc)
            except pulled.Invalid as exc:
                bad.append(f"{tbl} {rid}: {exc.reason}")
    return bad


def readable(store: Store) -> None:
    """What an officer does with synced records works on every one of them."""
    for c in store.contacts.list(limit=10_000):
        store.contacts.get(c["id"])
    store.concerns.list()
    store.referrals.list()
    store.orgs.list()
    store.search.run("pastor") if hasattr(store.search, "run") else None


def verified(store: Store) -> None:
    rep = audit.verify(store.conn)
    assert rep.ok, rep.problems + [str(f) for f in rep.findings]


def held_entry(store: Store, row_id: str) -> dict | None:
    return next((r for r in store.sync.held_list() if r["row_id"] == row_id), None)


def quarantined(store: Store, row_id: str, *reason: str, kinds=("invalid",)) -> dict:
    """The quarantine entry of ``row_id``: of one of ``kinds``, and for ``invalid`` with every
    word of ``reason`` in its reason."""
    got = held_entry(store, row_id)
    assert got is not None, f"{row_id} is not listed by sync --held"
    assert got["status"] == "quarantined" and got["kind"] in kinds, got
    if got["kind"] == "invalid":
        for word in reason:
            assert word in got["reason"], got
    return got


def round_trip(w: World) -> tuple[sync.Result, str, str]:
    """``a`` writes and syncs (pulling the poison too), ``b`` writes and syncs, ``a`` syncs
    again: returns b's result and the two new contacts' ids, each checked to have arrived on
    the other side (valid changes flow, and the push still runs)."""
    from_a = w.a.contacts.add({"summary": f"valid from A {w.n}"})
    do_sync(w.a, w.url)
    from_b = w.b.contacts.add({"summary": f"valid from B {w.n}"})
    result = do_sync(w.b, w.url)
    do_sync(w.a, w.url)
    assert w.b.contacts.get(from_a)["summary"].startswith("valid from A")
    assert w.a.contacts.get(from_b)["summary"].startswith("valid from B")
    for s in (w.a, w.b):
        assert invalid_rows(s) == []
        readable(s)
        verified(s)
    return result, from_a, from_b


def not_applied(w: World, rid: str) -> None:
    for s in (w.a, w.b):
        assert s.scalar("SELECT count(*) FROM contacts WHERE id = ?", [rid]) == 0


# ---------------------------------------------------------------------- the examples
@pytest.mark.parametrize(
    "values, words",
    [
        ({"tags": "not json"}, ("tags", "JSON list")),
        ({"tags": '["ok", 3]'}, ("tags",)),
        ({"occurred_at": "2026-13-45T99:00:00Z"}, ("occurred_at", "not a real time")),
        ({"occurred_at": "yesterday"}, ("occurred_at",)),
        ({"kind": "evil"}, ("Unknown kind",)),
        ({"deleted": "yes"}, ("deleted",)),
        ({"deleted": 2}, ("deleted",)),
        ({"summary": 12345}, ("summary", "a number")),
        ({"summary": "x" * 100_000}, ("summary", "characters long")),
        ({"summary": "\x1b]0;pwned\x07"}, ("summary", "control character")),
        ({"summary": _DROP}, ("summary", "missing")),
        ({"occurred_at": "2999-01-01T00:00:00Z"}, ("occurred_at", "future")),
        ({"organization_id": "not-an-id"}, ("organization_id",)),
    ],
    ids=[
        "tags-not-json", "tags-not-words", "occurred-2026-13-45", "occurred-words", "kind-evil",
        "deleted-yes", "deleted-2", "integer-summary", "long-summary", "escape-summary",
        "missing-summary", "occurred-2999", "bad-org-id",
    ],
)  # fmt: skip
def test_an_invalid_value_is_quarantined_and_the_rest_flows(world, values, words):
    w = world
    row = w.poison("contacts", w.new_contact(**values))
    P.plant(w.url, [row])
    result, _, _ = round_trip(w)
    not_applied(w, row["row_id"])
    assert result.quarantined >= 1
    quarantined(w.b, row["row_id"], *words)
    quarantined(w.a, row["row_id"], *words)


def test_stamps_in_2999_are_refused_not_held_for_ever(world):
    w = world
    body = w.new_contact(summary="from the far future")
    far = "32503680000000-00000-" + w.evil.device_id()  # 3000-01-01: 14 digits of ms
    body["clocks"] = {"*": "9999999999999-00000-" + w.evil.device_id()}  # the year 2286
    body["updated_at"] = "2999-01-01T00:00:00.000Z"
    row = w.poison("contacts", body)
    other = w.poison("contacts", w.new_contact(summary="also far"), hlc=far)
    P.plant(w.url, [row, other])
    result, _, _ = round_trip(w)
    not_applied(w, row["row_id"])
    assert result.held == 0
    quarantined(w.b, row["row_id"], "far in the future")
    quarantined(w.b, other["row_id"])


def test_an_edit_that_breaks_a_shared_record_leaves_it_as_it_was(world):
    w = world
    body = P.body_of(w.a, "contacts", w.cid)
    stamp = P.stamp(w.evil.device_id(), 1000)
    body["values"]["tags"] = "not json"
    body["values"]["summary"] = "rewritten by the store"
    body["clocks"] = {**body["clocks"], "tags": stamp, "summary": stamp}
    body["changed"] = ["tags", "summary"]
    row = w.poison("contacts", body, rid=w.cid)
    P.plant(w.url, [row])
    round_trip(w)
    for s in (w.a, w.b):
        got = s.contacts.get(w.cid)
        assert got["summary"] == "Met the pastor" and got["tags"] == []
    quarantined(w.b, w.cid, "tags")
    # edit and delete still work on the record (the issue: they crashed)
    w.b.contacts.update(w.cid, {"notes": "still fine"})
    w.b.contacts.delete(w.cid)


def test_a_body_that_is_not_json_or_too_big(world):
    w = world
    broken = w.poison("contacts", "{not json at all")
    huge_body = w.new_contact(summary="y" * 2_000_000)
    huge = w.poison("contacts", huge_body)
    P.plant(w.url, [broken, huge])
    round_trip(w)
    not_applied(w, broken["row_id"])
    not_applied(w, huge["row_id"])
    quarantined(w.b, broken["row_id"], "not a JSON object", kinds=("invalid", "trust"))
    quarantined(w.b, huge["row_id"], kinds=("invalid", "trust"))
    kept = w.b.scalar("SELECT max(length(text)) FROM sync_quarantine")
    assert kept <= 1_100_000  # a quarantined body is kept capped, never 50 MB


def test_unsigned_and_forged_rows_are_quarantined(world):
    w = world
    unsigned = {**w.poison("contacts", w.new_contact()), "sig": None}
    other = w.poison("contacts", w.new_contact(summary="what evil signed"))
    forged = {**w.poison("contacts", w.new_contact()), "sig": other["sig"]}  # not its own
    P.plant(w.url, [unsigned, forged])
    round_trip(w)
    for row in (unsigned, forged):
        not_applied(w, row["row_id"])
        quarantined(w.b, row["row_id"], kinds=("trust", "invalid"))


def test_a_concern_moved_to_a_missing_contact_waits(world):
    w = world
    body = P.body_of(w.a, "concerns", w.kid)
    stamp = P.stamp(w.evil.device_id(), 1000)
    body["values"]["contact_id"] = "f" * 32  # no such contact anywhere
    body["clocks"] = {**body["clocks"], "contact_id": stamp}
    body["changed"] = ["contact_id"]
    row = w.poison("concerns", body, rid=w.kid)
    P.plant(w.url, [row])
    round_trip(w)
    for s in (w.a, w.b):
        assert s.concerns.get(w.kid)["contact_id"] == w.cid
    got = held_entry(w.b, w.kid)
    assert got is not None and got["status"] == "held" and "waiting" in got["reason"]
    r = do_sync(w.b, w.url)  # retried, still waiting, never fatal
    assert r.held == 1


def test_a_new_concern_for_a_missing_contact_waits_then_applies(world):
    """A concern that arrives before its contact (its contact's change is planted later)."""
    w = world
    cid = w.row_id()
    contact = w.new_contact(summary="arrives second")
    concern = P.body_of(w.a, "concerns", w.kid)
    concern["values"]["contact_id"] = cid
    concern["clocks"] = {"*": P.stamp(w.evil.device_id())}
    concern["changed"] = ["*"]
    kid = w.row_id()
    P.plant(w.url, [w.poison("concerns", concern, rid=kid)])
    r = do_sync(w.b, w.url)
    assert r.held == 1 and w.b.scalar("SELECT count(*) FROM concerns WHERE id = ?", [kid]) == 0
    P.plant(w.url, [w.poison("contacts", contact, rid=cid)])
    do_sync(w.b, w.url)
    trusted = w.b.scalar("SELECT count(*) FROM contacts WHERE id = ?", [cid])
    if trusted:  # the evil laptop is enrolled: its valid changes apply
        assert w.b.concerns.get(kid)["contact_id"] == cid
        assert held_entry(w.b, kid) is None


def test_seq_at_the_maximum_does_not_stop_sync(world):
    w = world
    row = w.poison("contacts", w.new_contact(summary="planted at the top"))
    P.plant(w.url, [{**row, "seq": P.MAX_SEQ}], move_counter=False)
    result, from_a, from_b = round_trip(w)  # pushes after it are still pulled, both ways
    assert any("counter" in p or str(P.MAX_SEQ) in p for p in result.seq_problems), result
    assert w.b.sync.held_list()[-1]["status"] == "anomaly"
    not_applied(w, row["row_id"])
    result, _, _ = round_trip(w)  # and again: the store's seqs never go backwards
    assert result.seq_problems  # still reported while it is there


def test_a_gap_and_rows_slipped_under_the_cursor_are_reported(world):
    """The row is planted right after a pull moved the cursor: on a department store (its
    pages cannot count the rows RLS hides) the sync counts them at the new cursor after the
    pull, so the next round has a count to compare with."""
    w = world
    for n in range(3):
        w.a.contacts.add({"summary": f"gap {n}"})
    do_sync(w.a, w.url)
    pulled_to, _ = w.b.sync.cursors(P.store_id(w.url))
    P.delete_seq(w.url, pulled_to + 2)  # one of a's rows, before b pulled it
    r = do_sync(w.b, w.url)
    # A department store hides other units' rows from a login (row-level security): there a
    # gap in the seqs a laptop pulls is no missing row, and is not reported as one.
    gaps = not is_dept(w.url)
    assert any("missing" in p for p in r.seq_problems) is gaps, r.seq_problems
    row = w.poison("contacts", w.new_contact(summary="slipped under"))
    P.plant(w.url, [{**row, "seq": -5}], move_counter=False)  # under everyone's cursor
    r = do_sync(w.b, w.url)
    assert any("at or below" in p for p in r.seq_problems), r.seq_problems
    not_applied(w, row["row_id"])
    reasons = [e["reason"] for e in w.b.sync.held_list() if e["status"] == "anomaly"]
    assert any("missing" in x for x in reasons) is gaps and any("at or below" in x for x in reasons)
    r = do_sync(w.b, w.url)  # reported once, kept in the list
    assert not any("at or below" in p for p in r.seq_problems)


def test_a_page_out_of_order_is_quarantined_not_applied(store):
    """A remote handing back a seq at or below the cursor (a broken or hostile server)."""
    change = RemoteChange(3, "dddd", 1, "contacts", "a" * 32, P.stamp("dddd"), {"x": 1})
    got = Pull(store, "store-x").page([change], after=5)
    assert got.quarantined == 1 and got.applied == 0
    (entry,) = store.sync.held_list()
    assert entry["kind"] == "sequence" and "not after 5" in entry["reason"]


# ---------------------------------------------------------------------- held until due
def test_far_ahead_changes_are_retried_only_when_due(world, monkeypatch):
    w = world
    rows = [
        w.poison("contacts", w.new_contact(summary=f"ahead {n}"),
                 hlc=P.stamp(w.evil.device_id(), 3 * 86_400_000))
        for n in range(3)
    ]  # fmt: skip
    for row in rows:
        body = json.loads(row["body"])
        body["clocks"] = {"*": row["hlc"]}
        row.update(w.poison("contacts", body, rid=row["row_id"], hlc=row["hlc"]))
    P.plant(w.url, rows)
    r = do_sync(w.b, w.url)
    assert r.held == 3
    entry = held_entry(w.b, rows[0]["row_id"])
    assert entry["status"] == "held" and entry["due"] is not None
    checked = []
    real = pulled.check
    monkeypatch.setattr(pulled, "check", lambda *a, **k: checked.append(a) or real(*a, **k))
    r = do_sync(w.b, w.url)
    assert r.held == 3 and checked == []  # not due: not even looked at
    future = time.time() + 3 * 86_400
    monkeypatch.setattr("time.time", lambda: future)
    r = do_sync(w.b, w.url)
    assert r.held == 0 and len(checked) == 3
    assert w.b.contacts.get(rows[0]["row_id"])["summary"] == "ahead 0"


# ---------------------------------------------------------------------- the listing
def test_sync_held_lists_one_line_each_and_json(world, cli):
    w = world
    bad = w.poison("contacts", w.new_contact(kind="evil"))
    P.plant(w.url, [bad])
    P.plant(w.url, [{**w.poison("contacts", "nope"), "seq": P.MAX_SEQ}], move_counter=False)
    r = cli("--db", str(w.b.path), "sync", url_for(w.url, w.b))
    assert "quarantined" in r.stdout and "fieldlog sync --held" in r.stderr
    out = cli("--db", str(w.b.path), "sync", "--held").stdout
    lines = out.strip().splitlines()
    line = next(x for x in lines if bad["row_id"][:12] in x)
    assert line.startswith("quarantined") and "contact" in line and "seq" in line
    assert "Unknown kind" in line or "[trust]" in line
    assert any(x.startswith("anomaly") for x in lines)
    rows = cli.json("--db", str(w.b.path), "sync", "--held")
    got = next(x for x in rows if x["row_id"] == bad["row_id"])
    assert {"status", "kind", "reason", "tbl", "row_id", "origin", "officer", "seq"} <= set(got)
    assert got["officer"] == "Dana Ruiz"  # the template's claim, shown as the change says


def test_sync_held_on_a_clean_log(cli, store):
    assert "Nothing held or quarantined" in cli("--db", str(store.path), "sync", "--held").stdout


# ---------------------------------------------------------------------- random poison
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=5,
)  # fmt: skip
_FIELDS = [*records.TABLE_FIELDS["contacts"], "deleted"]
_mutation = st.one_of(
    st.tuples(st.just("value"), st.sampled_from(_FIELDS), _json),
    st.tuples(st.just("drop"), st.sampled_from(_FIELDS), st.none()),
    st.tuples(
        st.just("meta"),
        st.sampled_from(
            ["officer", "origin", "created_at", "updated_at", "clocks", "changed", "values"]
        ),
        _json,
    ),  # fmt: skip
    st.tuples(st.just("clock"), st.sampled_from([*_FIELDS, "*", "nope"]), _json),
    st.tuples(st.just("text"), st.none(), st.text(max_size=40)),
    st.tuples(st.just("column"), st.sampled_from(["tbl", "row_id", "hlc", "origin_seq"]), _json),
)
_row = st.tuples(
    st.lists(_mutation, min_size=1, max_size=3),
    st.booleans(),  # signed by the enrolled evil laptop
    st.booleans(),  # aimed at the record every laptop holds
    st.one_of(st.none(), st.none(), st.integers(-(2**63), 2**63 - 1)),  # a seq of its own
)


def _poisoned(w: World, mutations, sign: bool, shared: bool) -> dict:
    body: object = P.body_of(w.a, "contacts", w.cid)
    assert isinstance(body, dict)
    stamp = P.stamp(w.evil.device_id(), 1000)
    body["clocks"] = {"*": stamp}
    body["changed"] = ["summary"]
    cols = {"tbl": "contacts", "row_id": w.cid if shared else w.row_id(), "hlc": stamp}
    text = None
    for what, name, value in mutations:
        values = body.get("values")
        if what == "value" and isinstance(values, dict):
            values[name] = value
        elif what == "drop" and isinstance(values, dict):
            values.pop(name, None)
        elif what == "meta":
            body[name] = value
        elif what == "clock" and isinstance(body.get("clocks"), dict):
            body["clocks"][name] = value
        elif what == "text":
            text = value
        elif what == "column":
            cols[name] = value
    row = w.poison(cols["tbl"], text if text is not None else body, rid=cols["row_id"],
                   hlc=cols["hlc"])  # fmt: skip
    if "origin_seq" in cols:
        row["origin_seq"] = cols["origin_seq"]
    if not sign:
        row["sig"] = None
    return row


@given(st.lists(_row, min_size=1, max_size=4))
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_random_poison_is_never_applied_never_fatal(world, rows):
    w = world
    before = {s: s.contacts.get(w.cid) for s in (w.a, w.b)}
    planted = []
    for mutations, sign, shared, seq in rows:
        row = _poisoned(w, mutations, sign, shared)
        if seq is not None:
            row["seq"] = seq
        planted.append(row)
    seqs = P.plant(w.url, planted)
    round_trip(w)  # no traceback; valid changes flow; every row valid; verify passes
    for s in (w.a, w.b):
        listed = {e["row_id"] for e in s.sync.held_list()}
        for row, seq in zip(planted, seqs, strict=True):
            rid = row["row_id"]
            if seq is None or not isinstance(rid, str) or rid == w.cid:
                continue  # not planted, or not a record of its own
            there = s.scalar("SELECT count(*) FROM contacts WHERE id = ?", [rid])
            # applied (it passed every check) or listed; or never pulled: a seq of its own,
            # under the cursor or above the counter
            assert there or rid in listed or row.get("seq") is not None, row
    for s in (w.a, w.b):  # the shared record changed only by a change that passed every check
        now = s.contacts.get(w.cid)
        if now != before[s]:
            assert invalid_rows(s) == []


# ---------------------------------------------------------------------- plaintext remotes
@pytest.fixture
def encrypted(tmp_path, monkeypatch):
    monkeypatch.delenv("FIELDLOG_REMOTE_PASSPHRASE", raising=False)
    s = Store.open(tmp_path / "secret.db", passphrase="correct horse", encrypt=True)
    s.set_officer("Dana Ruiz")
    s.contacts.add({"summary": "a resident's name"})
    yield s
    s.close()


def test_an_encrypted_log_will_not_make_a_plaintext_remote(encrypted, tmp_path):
    target = tmp_path / "new-remote.fieldlog"
    with pytest.raises(sync.PlainRemoteError) as exc:
        sync.run(encrypted, [("new", str(target))])
    assert "FIELDLOG_REMOTE_PASSPHRASE" in str(exc.value) and "--allow-plain-remote" in str(
        exc.value
    )
    assert not target.exists() and list(tmp_path.glob("new-remote*")) == []


def test_an_encrypted_log_will_not_sync_into_a_plaintext_file(encrypted, pair, tmp_path):
    target = tmp_path / "plain.fieldlog"
    do_sync(pair[0], str(target))  # a plain laptop made a plaintext store
    before = target.read_bytes()
    with pytest.raises(sync.PlainRemoteError):
        sync.run(encrypted, [("dept", str(target))])
    assert target.read_bytes() == before
    from fieldlog.db.remotes.factory import open_remote

    remote = open_remote(str(target))  # the round checks an opened remote too
    try:
        with pytest.raises(sync.PlainRemoteError):
            sync.sync_with(encrypted, remote)
    finally:
        remote.close()
    results = sync.run(encrypted, [("dept", str(target))], allow_plain_remote=True)
    assert results[0].pushed == 1


def test_an_encrypted_remote_is_fine(encrypted, tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDLOG_REMOTE_PASSPHRASE", "department secret")
    target = tmp_path / "secret-remote.fieldlog"
    (r,) = sync.run(encrypted, [("dept", str(target))])
    assert r.pushed == 1
    assert not target.read_bytes().startswith(b"SQLite format 3")


def test_the_refusal_is_one_line_from_the_cli(tmp_path, monkeypatch):
    from tests.lib.run import run_fieldlog

    db = tmp_path / "secret.db"
    env = {"FIELDLOG_DB": str(db), "FIELDLOG_PASSPHRASE": "correct horse"}
    monkeypatch.delenv("FIELDLOG_REMOTE_PASSPHRASE", raising=False)
    assert run_fieldlog("init", "--officer", "Dana", "--encrypt", env=env).returncode == 0
    target = tmp_path / "plain.fieldlog"
    r = run_fieldlog("sync", str(target), env=env)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "--allow-plain-remote" in r.stderr and not target.exists()
    r = run_fieldlog("sync", str(target), "--allow-plain-remote", env=env)
    assert r.returncode == 0, r.stderr
    assert target.exists()


def test_postgres_remotes_are_not_refused(encrypted, pg_url):
    (r,) = sync.run(encrypted, [("pg", pg_url)])
    assert r.pushed == 1


def test_a_plain_log_still_makes_a_plain_remote(pair, tmp_path):
    target = tmp_path / "plain.fieldlog"
    (r,) = sync.run(pair[0], [("dept", str(target))])
    assert target.exists() and r.line() == "dept: pushed 0, pulled 0, conflicts 0"


# ---------------------------------------------------------------------- trust, the command
def test_a_device_trusted_later_is_released_from_quarantine(world, tmp_path):
    w = world
    new = Store.open(tmp_path / "new.db")
    new.set_officer("Kim Park")
    rid = new.contacts.add({"summary": "from a laptop not enrolled yet"})
    do_sync(new, w.url)  # registers itself, pushes signed changes nobody trusts yet
    r = do_sync(w.b, w.url)
    assert r.quarantined == 1
    quarantined(w.b, rid, kinds=("trust",))
    enroll(w.url, w.a, new)  # a supervisor trusts it
    r = do_sync(w.b, w.url)
    assert r.quarantined == 0 and held_entry(w.b, rid) is None
    assert w.b.contacts.get(rid)["summary"] == "from a laptop not enrolled yet"
    entry = audit.history(w.b.conn, "contacts", rid)["entries"][-1]
    assert entry["officer"] == "Kim Park" and entry["action"] == "sync insert"
    verified(w.b)
    new.close()


def test_an_audit_problem_makes_sync_exit_1_after_the_round(pair, remote_url, cli, monkeypatch):
    a, _ = pair
    a.contacts.add({"summary": "still pushed"})
    monkeypatch.setattr(
        "fieldlog.db.audit.witness.check", lambda conn, heads: ["the chain was truncated"]
    )
    r = cli("--db", str(a.path), "sync", remote_url, code=1)
    assert "pushed 1" in r.stdout
    assert "AUDIT PROBLEM: the chain was truncated" in r.stderr and "fieldlog verify" in r.stderr
    r = cli("--db", str(a.path), "sync", remote_url, "--json", code=1)
    (res,) = json.loads(r.stdout)
    assert res["audit_problems"] == ["the chain was truncated"] and res["quarantined"] == 0
    assert {"notices", "sequence_problems", "pushed", "pulled", "held"} <= set(res)


def test_a_referral_answering_another_contacts_concern_is_quarantined(world):
    w = world
    other = w.a.contacts.add({"summary": "someone else"}, referrals=[{"agency": "Parks Dept"}])
    do_sync(w.a, w.url)
    do_sync(w.b, w.url)
    (ref,) = [r for r in w.a.referrals.list() if r["contact_id"] == other]
    body = P.body_of(w.a, "referrals", ref["id"])
    stamp = P.stamp(w.evil.device_id(), 1000)
    body["values"]["concern_id"] = w.kid  # a concern of w.cid, not of `other`
    body["clocks"] = {**body["clocks"], "concern_id": stamp}
    body["changed"] = ["concern_id"]
    P.plant(w.url, [w.poison("referrals", body, rid=ref["id"])])
    round_trip(w)
    for s in (w.a, w.b):
        assert s.referrals.get(ref["id"])["concern_id"] is None
    quarantined(w.b, ref["id"], "another contact")


def test_untrusted_changes_are_checked_again_only_when_trust_changes(world, tmp_path):
    w = world
    new = Store.open(tmp_path / "new.db")
    new.set_officer("Kim Park")
    for n in range(3):
        new.contacts.add({"summary": f"not enrolled {n}"})
    do_sync(new, w.url)
    assert do_sync(w.b, w.url).quarantined == 3
    verdicts = []
    from fieldlog.db import devices

    real = devices.Trust.verdict

    def counted(self, change):
        verdicts.append(change.seq)
        return real(self, change)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(devices.Trust, "verdict", counted)
        do_sync(w.b, w.url)
        assert verdicts == []  # nothing new in the trust log: not checked again
        enroll(w.url, w.a, new)
        r = do_sync(w.b, w.url)
    assert len(verdicts) == 3 and r.quarantined == 0
    new.close()

"""A new laptop's first sync bootstraps from the store's snapshot (fieldlog.db.bootstrap):
it loads the current state instead of replaying, ends with what a replayed laptop holds (the
same rows, clocks included), verifies, pulls later changes incrementally, and replays when the
snapshot cannot be trusted. On PostgreSQL a push committing while the snapshot is read is
pulled right after, and a department officer's snapshot holds only what their login reads."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldlog import records
from fieldlog.db import audit, bootstrap
from fieldlog.db.devices import Trust
from fieldlog.db.remotes import bootsnap
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.store import Store
from tests.lib.sync_helpers import content, do_sync, enroll, url_for


def laptop(tmp: Path, name: str, officer: str | None = None) -> Store:
    s = Store.open(tmp / f"{name}.db")
    s.set_officer(officer or name.title())
    return s


def rows_of(s: Store) -> dict[str, list[tuple]]:
    """Every column of every record row (clocks, hlc, origin included), by table; the clocks
    as the stamps they hold (the writing laptop keeps its fields in the order it changed
    them, a pulled row in the change's order: the same clocks)."""
    out = {}
    for t in records.in_sync_order():
        cur = s.conn.execute(f"SELECT * FROM {t} ORDER BY id")
        at = [d[0] for d in cur.description].index("clocks")
        out[t] = [
            (*r[:at], sorted(json.loads(r[at]).items()), *r[at + 1 :]) for r in cur.fetchall()
        ]
    return out


def fill(s: Store, n: int, tag: str = "c") -> list[str]:
    out = []
    for i in range(n):
        out.append(
            s.contacts.add(
                {"summary": f"{tag}{i}", "neighborhood": "Eastside"},
                concerns=[{"category": "youth", "description": f"{tag}{i} court"}],
                referrals=[{"agency": "Parks Dept", "reason": "lights"}],
            )
        )
    return out


def publish(s: Store, url: str) -> int:
    """``s`` (pulled up to the head) leaves its snapshot in the remote, as a round does."""
    do_sync(s, url)  # its own pushes pulled back: at the head
    remote = open_remote(url_for(url, s))
    try:
        t = Trust(s, remote, remote.store_id)
        t.prepare()
        return bootstrap.publish(s, remote, remote.store_id, t, force=True)
    finally:
        remote.close()


@pytest.fixture
def world(tmp_path):
    """A SQLite remote where ``a`` (founder) and ``b`` made records, ``a`` left a snapshot."""
    url = str(tmp_path / "department.fieldlog")
    a, b = laptop(tmp_path, "a", "Dana Ruiz"), laptop(tmp_path, "b", "Sam Lee")
    enroll(url, a, b)
    fill(a, 5, "a")
    do_sync(a, url)
    fill(b, 3, "b")
    do_sync(b, url)
    do_sync(a, url)
    b.contacts.update(b.contacts.list()[0]["id"], {"summary": "edited by Sam"})
    do_sync(b, url)
    do_sync(a, url)
    assert publish(a, url) > 0
    yield url, a, b
    a.close()
    b.close()


def test_first_sync_bootstraps_and_equals_a_replayed_laptop(world, tmp_path, cli):
    url, a, b = world
    c, d = laptop(tmp_path, "c"), laptop(tmp_path, "d")
    got = do_sync(c, url)
    assert got.bootstrapped == len(a.contacts.list()) * 3
    assert not [n for n in got.notices if "snapshot" in n]
    assert "bootstrapped" in got.line()
    # It did not replay: every record has a bootstrap entry, none a pulled change's.
    actions = dict(c.conn.execute("SELECT action, count(*) FROM audit GROUP BY action"))
    assert actions == {"bootstrap": got.bootstrapped}
    meta = json.loads(c.meta()[f"sync:{got_store(url)}:bootstrap"])
    assert meta["kind"] == "signed" and meta["rows"] == got.bootstrapped
    replayed = do_sync(d, url, replay=True)
    assert not replayed.bootstrapped and replayed.pulled > 0
    assert rows_of(c) == rows_of(d) == rows_of(a)
    assert content(c) == content(b)
    rep = audit.verify(c.conn)
    assert rep.ok, rep
    cli("--db", str(c.path), "verify")  # fieldlog verify passes on the bootstrapped log
    # Its history says where the record came from.
    assert {
        e["action"]
        for e in audit.history(c.conn, "contacts", a.contacts.list()[0]["id"])["entries"]
    } == {"bootstrap"}


def got_store(url: str) -> str:
    r = open_remote(url)
    try:
        return r.store_id
    finally:
        r.close()


def test_later_changes_pull_incrementally_and_converge(world, tmp_path):
    url, a, b = world
    # b keeps editing after the snapshot: above its sequence.
    fill(b, 2, "late")
    b.contacts.update(a.contacts.list()[-1]["id"], {"neighborhood": "Westside"})
    do_sync(b, url)
    c = laptop(tmp_path, "c")
    enroll(url, a, c)
    got = do_sync(c, url)
    assert got.bootstrapped and got.pulled > got.bootstrapped  # the rest came by pull
    # c edits a bootstrapped record; a and b get it; all three converge.
    target = a.contacts.list()[0]["id"]
    c.contacts.update(target, {"summary": "edited on the new laptop"})
    do_sync(c, url)
    for s in (a, b, c, a):
        do_sync(s, url)
    assert rows_of(a) == rows_of(b) == rows_of(c)
    assert c.contacts.get(target)["summary"] == "edited on the new laptop"
    assert not a.conflicts.count() and not c.conflicts.count()
    assert audit.verify(c.conn).ok
    # The store's sequence checks still pass for it.
    assert not got.seq_problems and not do_sync(c, url).seq_problems


def test_replay_flag_and_a_log_with_records_replay(world, tmp_path, cli):
    url, a, _b = world
    c = laptop(tmp_path, "c")
    c.contacts.add({"summary": "mine", "neighborhood": "Eastside"})
    assert not bootstrap.eligible(c, got_store(url))
    got = do_sync(c, url)
    assert not got.bootstrapped and c.contacts.get(a.contacts.list()[0]["id"])
    e = laptop(tmp_path, "e")
    assert bootstrap.eligible(e, got_store(url))
    got = do_sync(e, url, replay=True)
    assert not got.bootstrapped and rows_of(e) == rows_of(a)
    f = laptop(tmp_path, "f")
    f.close()
    out = cli("--db", str(tmp_path / "f.db"), "sync", url, "--replay", "--json")
    assert json.loads(out.stdout)[0]["pulled"] > 0
    with Store.open(tmp_path / "f.db") as g:
        assert not g.conn.execute("SELECT 1 FROM audit WHERE action = 'bootstrap'").fetchone()
    assert not bootstrap.eligible(e, got_store(url))  # the cursor moved: never again


def test_altered_snapshot_is_refused_and_replayed(world, tmp_path):
    url, a, _b = world
    with sqlite3.connect(url) as raw:
        n, body = raw.execute(
            "SELECT n, body FROM fieldlog_snapshot WHERE tbl = 'contacts' LIMIT 1"
        ).fetchone()
        planted = json.loads(body)
        planted["values"]["summary"] = "planted in the share"
        raw.execute("UPDATE fieldlog_snapshot SET body = ? WHERE n = ?", [json.dumps(planted), n])
    c = laptop(tmp_path, "c")
    got = do_sync(c, url)
    assert not got.bootstrapped
    assert any("do not hash to the digest" in n for n in got.notices)
    assert rows_of(c) == rows_of(a)  # replayed: the planted text is nowhere
    assert audit.verify(c.conn).ok


def test_forged_signature_is_refused(world, tmp_path):
    url, a, _b = world
    with sqlite3.connect(url) as raw:
        raw.execute("UPDATE fieldlog_meta SET value = 'AAAA' WHERE key = 'snapshot_sig'")
    got = do_sync(laptop(tmp_path, "c"), url)
    assert not got.bootstrapped and any("signature" in n for n in got.notices)


def test_changes_of_an_untrusted_device_mean_replay(world, tmp_path):
    url, a, _b = world
    stranger = laptop(tmp_path, "x", "Stranger")
    fill(stranger, 1, "x")
    do_sync(stranger, url)  # registered, never trusted: its changes are quarantined
    do_sync(a, url)
    publish(a, url)  # a quarantined them, so it leaves no snapshot...
    c = laptop(tmp_path, "c")
    got = do_sync(c, url)
    # ... and the old snapshot (below the stranger's changes) is still usable, or the laptop
    # replays: either way the stranger's record is not applied.
    assert not [r for r in c.contacts.list() if r["summary"].startswith("x")]
    assert got.quarantined >= 1


def test_snapshot_is_read_in_one_transaction_with_its_seq(world, tmp_path):
    url, a, b = world
    remote = open_remote(url)
    try:
        with bootsnap.open_snapshot(remote) as snap:
            assert snap is not None and snap.kind == "signed"
            assert snap.below == snap.seq  # a file shows every seq
            n = sum(len(p) for p in snap.pages)
            assert n == snap.rows
    finally:
        remote.close()


# ---------------------------------------------------------------------- in flight, RLS
def _push_during_pages(monkeypatch, other: Store, url: str) -> list[int]:
    """Make the next snapshot read let ``other`` push a change after its first page."""
    pushed: list[int] = []
    real = bootsnap.open_snapshot

    from contextlib import contextmanager

    @contextmanager
    def wrapped(remote, page=2000):
        with real(remote, page) as snap:
            if snap is not None:
                inner = snap.pages

                def pages():
                    for i, p in enumerate(inner):
                        yield p
                        if i == 0 and not pushed:
                            other.contacts.add({"summary": "in flight", "neighborhood": "North"})
                            pushed.append(do_sync(other, url).pushed)

                snap.pages = pages()
            yield snap

    monkeypatch.setattr(bootsnap, "open_snapshot", wrapped)
    return pushed


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "dept"])
def test_push_while_bootstrapping_is_pulled_after(kind, request, tmp_path, monkeypatch):
    url = request.getfixturevalue("pg_url") if kind == "postgres" else None
    if kind == "sqlite":
        url = str(tmp_path / "department.fieldlog")
    if kind == "dept":
        from tests.lib.pg import Dept, DeptUrl

        srv = request.getfixturevalue("pg_server")
        url = DeptUrl(Dept(srv, srv.fresh_dept_database(), tmp_path))
    assert url is not None
    a, b = laptop(tmp_path, "a", "Dana Ruiz"), laptop(tmp_path, "b", "Sam Lee")
    c = laptop(tmp_path, "c", "Kim Park")
    enroll(url, a, b, c)
    fill(a, 4, "a")
    do_sync(a, url)
    fill(b, 2, "b")
    do_sync(b, url)
    if kind != "dept":
        assert publish(a, url) > 0
    pushed = _push_during_pages(monkeypatch, b, url)
    got = do_sync(c, url, page=2)
    assert pushed == [1]  # b pushed while c read the snapshot
    assert got.bootstrapped, got.notices
    monkeypatch.undo()
    for s in (a, b, c):
        do_sync(s, url)
    assert [r["summary"] for r in c.contacts.list() if r["summary"] == "in flight"]
    replayed = laptop(tmp_path, "r", "Kim Park")
    do_sync(replayed, url, replay=True)
    assert content(c) == content(replayed) == content(a)
    assert not got.seq_problems and not do_sync(c, url).seq_problems
    assert audit.verify(c.conn).ok


def test_dept_officer_bootstrap_holds_only_what_their_login_reads(dept, tmp_path):
    from tests.sync.test_dept_roles import Team, add_contact

    team = Team(dept, tmp_path)
    try:
        add_contact(team.dana, "East one")
        do_sync(team.dana, team.dana_url)
        add_contact(team.sam, "West one")
        do_sync(team.sam, team.sam_url)
        # A second East officer's new laptop: bootstraps from the server's state (RLS).
        url = dept.enroll("Eve East", unit="East")
        eve = laptop(tmp_path, "eve", "Eve East")
        do_sync(eve, url)  # registers
        r = open_remote(team.sue_url)
        try:
            t = Trust(team.sue, r, r.store_id)
            t.prepare()
            from fieldlog.db import devkeys

            key = devkeys.load(eve)
            assert key is not None
            t.trust(key.device, "officer")
        finally:
            r.close()
        eve2 = laptop(tmp_path, "eve2", "Eve East")
        got = do_sync(eve2, url)
        assert got.bootstrapped, got.notices
        summaries = {r["summary"] for r in eve2.contacts.list()}
        assert "East one" in summaries and "West one" not in summaries
        replayed = laptop(tmp_path, "eve3", "Eve East")
        do_sync(replayed, url, replay=True)
        assert content(eve2) == content(replayed)
        assert audit.verify(eve2.conn).ok
        assert not do_sync(eve2, url).seq_problems
    finally:
        team.close()


# ---------------------------------------------------------------------- property
_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 1)),
        st.tuples(
            st.just("edit"),
            st.integers(0, 1),
            st.integers(0, 50),
            st.text("abc", min_size=1, max_size=3),
        ),
        st.tuples(st.just("delete"), st.integers(0, 1), st.integers(0, 50)),
        st.tuples(st.just("sync"), st.integers(0, 1)),
        st.just(("publish",)),
        st.just(("boot",)),
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=_OPS)
def test_a_bootstrap_amid_other_laptops_edits_converges(ops):
    """Two laptops add, edit, delete and sync in any order; one of them leaves a snapshot at
    any point; a new laptop bootstraps at any point (from the snapshot there is, or replays
    when there is none) and edits too. In the end every laptop holds the same rows, clocks
    included, as a laptop that replayed every change."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = str(folder / "department.fieldlog")
        a, b = laptop(folder, "a", "Dana Ruiz"), laptop(folder, "b", "Sam Lee")
        c = laptop(folder, "c", "Kim Park")
        try:
            enroll(url, a, b, c)
            laptops = [a, b]
            n = 0
            published = False
            for op in (*ops, ("boot",)):
                if op[0] == "add":
                    n += 1
                    fill(laptops[op[1]], 1, f"x{n}-")
                elif op[0] == "edit":
                    live = laptops[op[1]].contacts.list(limit=1000)
                    if live:
                        rid = live[op[2] % len(live)]["id"]
                        laptops[op[1]].contacts.update(rid, {"notes": op[3]})
                elif op[0] == "delete":
                    live = laptops[op[1]].contacts.list(limit=1000)
                    if live:
                        laptops[op[1]].contacts.delete(live[op[2] % len(live)]["id"])
                elif op[0] == "sync":
                    do_sync(laptops[op[1]], url)
                elif op[0] == "publish":
                    do_sync(a, url)
                    published = publish(a, url) > 0 or published
                elif op[0] == "boot" and c not in laptops:
                    got = do_sync(c, url)
                    assert bool(got.bootstrapped) == published, got.notices
                    laptops.append(c)
                    live = c.contacts.list(limit=1000)
                    if live:
                        c.contacts.update(live[0]["id"], {"notes": "from the new laptop"})
            for _ in range(2):
                for s in laptops:
                    do_sync(s, url)
            replayed = laptop(folder, "r", "Lee Replay")
            do_sync(replayed, url, replay=True)
            assert rows_of(a) == rows_of(b) == rows_of(c) == rows_of(replayed)
            assert audit.verify(c.conn).ok
            replayed.close()
        finally:
            for s in (a, b, c):
                s.close()


def test_a_round_leaves_a_snapshot_when_the_store_is_far_ahead(tmp_path, monkeypatch):
    url = str(tmp_path / "department.fieldlog")
    a = laptop(tmp_path, "a", "Dana Ruiz")
    fill(a, 4)
    monkeypatch.setattr(bootstrap, "SNAPSHOT_EVERY", 10)
    got = do_sync(a, url)
    assert got.snapshot_written == 12  # 4 contacts, concerns, referrals: at the head
    b = laptop(tmp_path, "b")
    fill(b, 1, "b")
    got = do_sync(b, url)  # b has records: it replays; 3 changes beyond: no new snapshot
    assert not got.bootstrapped and not got.snapshot_written
    c = laptop(tmp_path, "c")
    got = do_sync(c, url)
    do_sync(a, url)  # b was never trusted: its records are quarantined everywhere
    assert got.bootstrapped == 12 and rows_of(c) == rows_of(a)


# ---------------------------------------------------------------------- review (issue 16)
@pytest.fixture
def plain(tmp_path):
    """A SQLite remote where ``a`` (founder, supervisor) and ``b`` (an enrolled officer) made
    records and are in sync; no snapshot yet."""
    url = str(tmp_path / "department.fieldlog")
    a, b = laptop(tmp_path, "a", "Dana Ruiz"), laptop(tmp_path, "b", "Sam Lee")
    enroll(url, a, b)
    ids = fill(a, 3, "a")
    do_sync(a, url)
    fill(b, 1, "b")
    do_sync(b, url)
    do_sync(a, url)
    do_sync(b, url)
    yield url, a, b, ids
    a.close()
    b.close()


def forge(s: Store, url: str, rows) -> int:
    """Device ``s`` signs a snapshot of its choosing, as bootsnap.write does."""
    remote = open_remote(url)
    try:
        t = Trust(s, remote, remote.store_id)
        t.prepare()
        return bootsnap.write(
            remote, remote.head(), rows, device=t.key.device, sign=t.key.sign,
            store_id=remote.store_id,
        )  # fmt: skip
    finally:
        remote.close()


def test_enrolled_officer_cannot_forge_or_hide_other_officers_records(plain, tmp_path, cli):
    from fieldlog import pulled
    from fieldlog.cli import app as cli_app

    url, a, b, ids = plain
    victim, hidden = ids[0], ids[1]
    rows = []
    for tbl, rid, hlc, body in bootstrap.state_rows(b):
        d = json.loads(body)
        if rid == hidden or d["values"].get("contact_id") == hidden:
            continue  # a's record left out of the snapshot b signs
        if rid == victim:
            d["values"]["summary"] = "forged by Sam, in Dana's name"
            d["values"]["kind"] = "suspect"  # not a vocabulary word
            d["values"]["follow_up_on"] = "whenever"  # not a date
            body = json.dumps(d)
            with pytest.raises(pulled.Invalid):  # what a replay does with such a change
                pulled.check(tbl, rid, {**d, "changed": ["*"]}, hlc)
        rows.append((tbl, rid, hlc, body))
    assert forge(b, url, rows) > 0
    c = laptop(tmp_path, "c")
    got = do_sync(c, url)
    assert not got.bootstrapped
    assert [n for n in got.notices if "not a trusted supervisor" in n]
    assert c.contacts.get(victim)["summary"] == "a0"  # replayed: as Dana wrote it
    assert c.conn.execute("SELECT 1 FROM contacts WHERE id = ?", [hidden]).fetchone()
    assert audit.verify(c.conn).ok
    c.close()
    for args in (["due"], ["show", victim[:8]], ["list"],
                 ["export", "csv", "--out", str(tmp_path / "o")]):  # fmt: skip
        r = cli.runner.invoke(cli_app, ["--db", str(tmp_path / "c.db"), *args])
        assert r.exception is None or isinstance(r.exception, SystemExit), (args, r.exception)


@pytest.mark.parametrize("how", ["invalid", "hidden", "extra", "clock"])
def test_a_supervisors_snapshot_must_be_valid_and_the_change_logs(plain, tmp_path, how):
    """Even the supervisor's signature does not carry a row a replay would refuse, nor rows
    that are not exactly the store's change log's records at their last clocks."""
    url, a, b, ids = plain
    rows = []
    for tbl, rid, hlc, body in bootstrap.state_rows(a):
        d = json.loads(body)
        if rid == ids[0]:
            if how == "invalid":
                d["values"]["kind"] = "suspect"
            elif how == "hidden":
                continue
            elif how == "clock":
                hlc = str(int(hlc[:13]) - 1) + hlc[13:]
        rows.append((tbl, rid, hlc, json.dumps(d) if how == "invalid" else body))
    if how == "extra":
        tbl, rid, hlc, body = rows[0]
        rows.insert(1, (tbl, "f" * 32, hlc, body))
    assert forge(a, url, rows) > 0
    c = laptop(tmp_path, "c")
    got = do_sync(c, url)
    assert not got.bootstrapped, got.notices
    assert len([n for n in got.notices if "snapshot" in n]) == 1, got.notices
    assert content(c) == content(a)  # replayed
    c.close()


def test_snapshot_rows_held_for_clock_mean_replay_not_loss(plain, tmp_path, monkeypatch):
    """A new laptop whose clock is 2 h behind: a snapshot row ahead of it refuses the
    snapshot (the replay holds those changes); they all come in once due."""
    from fieldlog import pulled

    url, a, b, ids = plain
    remote = open_remote(url)
    try:
        t = Trust(a, remote, remote.store_id)
        t.prepare()
        assert bootstrap.publish(a, remote, remote.store_id, t, force=True) > 0
    finally:
        remote.close()
    c = laptop(tmp_path, "c")
    real = pulled.now_ms
    monkeypatch.setattr(pulled, "now_ms", lambda: real() - 2 * 3600_000)
    got = do_sync(c, url)
    monkeypatch.setattr(pulled, "now_ms", real)
    assert not got.bootstrapped and got.held
    assert [n for n in got.notices if "ahead of this laptop's clock" in n]
    do_sync(c, url)  # clock fine now: held rows are due
    assert content(c) == content(a)


def test_snapshot_of_a_laptop_that_also_syncs_another_store(tmp_path):
    """a syncs with store X and store Y: it leaves no snapshot in X (Y's records would be
    in it), and a new laptop of X ends as a replay does."""
    x, y = str(tmp_path / "x.fieldlog"), str(tmp_path / "y.fieldlog")
    a = laptop(tmp_path, "a", "Dana Ruiz")
    other = laptop(tmp_path, "o", "Other County")
    enroll(x, a)
    enroll(y, other, a)
    fill(a, 2, "x")
    do_sync(a, x)
    fill(other, 1, "from-y")
    do_sync(other, y)
    do_sync(a, y)
    do_sync(a, x)
    remote = open_remote(x)
    try:
        t = Trust(a, remote, remote.store_id)
        t.prepare()
        assert bootstrap.publish(a, remote, remote.store_id, t, force=True) == 0
    finally:
        remote.close()
    c, d = laptop(tmp_path, "c"), laptop(tmp_path, "d")
    do_sync(c, x)
    do_sync(d, x, replay=True)
    assert content(c) == content(d)
    assert not [r for r in c.contacts.list() if r["summary"].startswith("from-y")]


def test_a_signed_row_with_a_non_text_value_is_one_line_not_a_traceback(plain, tmp_path, cli):
    from fieldlog.cli import app as cli_app

    url, a, b, ids = plain
    rows = []
    for tbl, rid, hlc, body in bootstrap.state_rows(a):
        if rid == ids[0]:
            d = json.loads(body)
            d["values"]["summary"] = ["not", "text"]
            body = json.dumps(d)
        rows.append((tbl, rid, hlc, body))
    forge(a, url, rows)  # even the supervisor's
    laptop(tmp_path, "c").close()
    for _ in range(2):
        r = cli.runner.invoke(cli_app, ["--db", str(tmp_path / "c.db"), "sync", url])
        assert r.exit_code == 0 and r.exception is None, r.output
    assert r.output.count("not bootstrapped") <= 1
    with Store.open(tmp_path / "c.db") as c:
        assert c.contacts.get(ids[0])["summary"] == "a0"


def test_a_row_the_database_refuses_rolls_back_and_replays(plain, tmp_path, monkeypatch):
    """A database error while loading (here: any row's insert) is one notice, then replay."""
    url, a, b, ids = plain
    remote = open_remote(url)
    try:
        t = Trust(a, remote, remote.store_id)
        t.prepare()
        assert bootstrap.publish(a, remote, remote.store_id, t, force=True) > 0
    finally:
        remote.close()
    from fieldlog.db import tx as txmod

    def boom(*_a, **_k):
        raise sqlite3.IntegrityError("planted")

    monkeypatch.setattr(txmod.Tx, "insert_loaded", boom)
    c = laptop(tmp_path, "c")
    got = do_sync(c, url)
    assert not got.bootstrapped
    assert [n for n in got.notices if "could not be stored" in n]
    assert content(c) == content(a)

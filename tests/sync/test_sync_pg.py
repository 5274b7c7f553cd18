"""Sync through a real PostgreSQL server (tests/lib/pg.py starts a throwaway one; never a mock).

tests/sync/test_sync.py runs its scenarios and the property test on both backends; this file holds
what only a server has: logins, permissions, concurrent pushers and a tailing reader, dropped
connections, the server's own errors.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import TYPE_CHECKING

import pytest

from fieldlog import sync
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.remotes.postgres import PostgresRemote
from fieldlog.db.remotes.types import SYNC_SCHEMA, OutChange, SyncError
from tests.lib.run import one_line_error, run_fieldlog
from tests.lib.sync_helpers import content, do_sync
from tests.lib.threads import at_once, tailing

if TYPE_CHECKING:
    from tests.lib.pg import PgServer

# pg_server and pg_url: a real throwaway server (tests/lib/pg.py, a plugin of tests/conftest.py)


def remote_rows(url: str) -> list:
    remote = open_remote(url)
    try:
        return remote.pull(0, 1_000_000)
    finally:
        remote.close()


# ---------------------------------------------------------------------- the remote itself
def test_tables_are_created_once_and_the_url_hides_the_password(pg_server, pg_url):
    remote = open_remote(pg_url)
    assert isinstance(remote, PostgresRemote)
    assert pg_server.password not in remote.url and ":***@" in remote.url
    assert remote.head() == 0 and remote.pull(0, 10) == []
    store_id = remote.store_id
    remote.close()
    again = open_remote(pg_url, create=False)
    assert again.store_id == store_id
    again.close()
    meta = dict(pg_server.execute(pg_url, "SELECT key, value FROM fieldlog_meta"))
    assert {k: meta[k] for k in ("kind", "sync_schema", "store_id")} == {
        "kind": "fieldlog-remote",
        "sync_schema": str(SYNC_SCHEMA),
        "store_id": store_id,
    }  # and the store's own counters (docs/sync-postgres.md)


def test_push_is_idempotent_and_numbers_in_order(pg_url):
    remote = open_remote(pg_url)
    rid = "0" * 31 + "1"
    batch = [
        OutChange(n, "contacts", rid, f"h{n}", {"n": n, "text": "nul \x00 and é ✓"})
        for n in range(1, 6)
    ]
    assert remote.push("dev-a", batch) == 5
    assert remote.push("dev-a", batch) == 0  # a retried push adds nothing
    assert remote.push("dev-a", [*batch[3:], OutChange(6, "contacts", rid, "h6", {})]) == 1
    assert remote.push("dev-b", batch[:2]) == 2  # another origin's origin_seq 1 and 2
    rows = remote.pull(0, 100)
    assert [c.seq for c in rows] == list(range(1, 9))
    assert [(c.origin, c.origin_seq) for c in rows][:6] == [("dev-a", n) for n in range(1, 7)]
    assert rows[0].body == {"n": 1, "text": "nul \x00 and é ✓"}  # text, byte for byte
    assert [c.seq for c in remote.pull(4, 2)] == [5, 6]
    assert remote.head() == 8
    found = [(c.origin_seq, c.row_id, c.hlc) for c in remote.origin_changes("dev-a", 4, 10)]
    assert found == [(5, rid, "h5"), (6, rid, "h6")]
    assert [(c.origin_seq, c.row_id, c.hlc) for c in remote.origin_changes("dev-b", 0, 1)] == [
        (1, rid, "h1")
    ]
    remote.close()


def test_concurrent_pushers_never_let_a_tailing_reader_miss_a_row(pg_url):
    """The BIGSERIAL lesson: seq N+1 must never be visible before seq N. Four laptops push
    at once while a fifth tails the remote with a cursor; it must see every row, in order."""
    open_remote(pg_url).close()
    pushers, batches, size = 4, 30, 15
    errors: list[BaseException] = []

    def push(n: int) -> None:
        remote = open_remote(pg_url)
        try:
            for b in range(batches):
                changes = [
                    OutChange(b * size + i + 1, "contacts", f"{n:032x}", "h", {"b": b})
                    for i in range(size)
                ]
                assert remote.push(f"laptop-{n}", changes) == size
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            remote.close()

    threads = [threading.Thread(target=push, args=(n,)) for n in range(pushers)]
    with tailing(pg_url, 7, errors) as seen:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    total = pushers * batches * size
    assert seen == list(range(1, total + 1))


def test_two_laptops_creating_the_store_at_once_get_one_store(pg_url):
    ids: list[str] = []

    def first_sync() -> None:
        remote = open_remote(pg_url)
        ids.append(remote.store_id)
        remote.close()

    errors = at_once(first_sync, 6)
    assert not errors, errors
    assert len(ids) == 6 and len(set(ids)) == 1


def test_a_shared_database_with_other_tables_is_fine(pg_server, pg_url, pair):
    pg_server.execute(pg_url, "CREATE TABLE people (id int)")
    a, _ = pair
    a.contacts.add({"summary": "hello"})
    assert do_sync(a, pg_url).pushed == 1
    tables = {r[0] for r in pg_server.execute(pg_url, "SELECT tablename FROM pg_tables "
                                              "WHERE schemaname = 'public'")}  # fmt: skip
    assert tables == {
        "people", "fieldlog_meta", "fieldlog_changes", "fieldlog_heads", "fieldlog_trust"
    }  # fmt: skip


@pytest.mark.parametrize(
    "setup",
    [
        "CREATE TABLE fieldlog_meta (a int)",
        "CREATE TABLE fieldlog_meta (key text PRIMARY KEY, value text);"
        "INSERT INTO fieldlog_meta VALUES ('kind', 'something-else'), ('store_id', 'x')",
    ],
)
def test_someone_elses_fieldlog_meta_is_refused_and_left_alone(pg_server, pg_url, setup):
    pg_server.execute(pg_url, setup + "; ALTER TABLE fieldlog_meta OWNER TO fieldlog_test")
    with pytest.raises(SyncError, match="not a fieldlog sync store"):
        open_remote(pg_url)
    assert pg_server.execute(pg_url, "SELECT to_regclass('fieldlog_changes')") == [(None,)]


def test_an_empty_database_is_not_a_store_without_create(pg_url):
    with pytest.raises(SyncError, match="holds no fieldlog sync store"):
        PostgresRemote.open(pg_url, create=False)


@pytest.mark.pg  # fresh_pg_url, not a fixture: marked by hand
def test_a_schema_in_the_url_keeps_stores_apart(pair):
    from tests.lib.pg import fresh_pg_url

    a, b = pair
    one, two = fresh_pg_url(), fresh_pg_url()
    a.contacts.add({"summary": "for one"})
    do_sync(a, one)
    assert do_sync(b, two).pulled == 0
    assert do_sync(b, one).pulled == 1
    r1, r2 = open_remote(one), open_remote(two)
    assert r1.store_id != r2.store_id
    r1.close()
    r2.close()


# ---------------------------------------------------------------------- the scenarios
# ---------------------------------------------------------------------- failures, one line each
def test_wrong_password_is_one_line_and_never_shows_the_password(pg_server, pg_url, cli):
    cli("add", "hello")
    bad = pg_url.replace(pg_server.password, "Not-The-Password-42")
    r = run_fieldlog("sync", bad)
    err = one_line_error(r, "PostgreSQL refused the login for fieldlog_test")
    assert "Not-The-Password-42" not in r.stderr + r.stdout
    assert "fieldlog remote list" in err
    # Saved as a named remote: the same, and `remote list` hides the password too.
    cli("remote", "add", "dept", bad)
    assert "Not-The-Password-42" not in cli("remote", "list").stdout
    r = cli("sync", "dept", code=1)
    assert "refused the login" in r.stderr and "Not-The-Password-42" not in r.stderr


def test_unreachable_server_is_one_line(cli):
    cli("add", "hello")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run_fieldlog("sync", f"postgresql://fl:pw@127.0.0.1:{port}/fieldlog")
    one_line_error(r, f"Cannot reach the PostgreSQL server at 127.0.0.1:{port}", "on the network?")


@pytest.mark.slow
def test_a_server_that_never_answers_times_out(cli):
    """Something listens but never speaks (a firewall, a hung server): the connect timeout
    (FIELDLOG_PG_CONNECT_TIMEOUT here, 10 s by default) ends it with the same line."""
    cli("add", "hello")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        port = s.getsockname()[1]
        started = time.monotonic()
        r = run_fieldlog(
            "sync",
            f"postgresql://fl:pw@127.0.0.1:{port}/fieldlog",
            env={"FIELDLOG_PG_CONNECT_TIMEOUT": "2"},
        )
        took = time.monotonic() - started
    one_line_error(r, "Cannot reach the PostgreSQL server", "on the network?")
    assert took < 15


def test_unknown_host_is_one_line(cli):
    cli("add", "hello")
    r = run_fieldlog("sync", "postgresql://fl:pw@no-such-host.invalid:5432/fieldlog")
    one_line_error(r, "no-such-host.invalid", "does not resolve")


def test_ssl_required_by_the_url_but_not_offered(pg_server, cli):
    cli("add", "hello")
    r = run_fieldlog("sync", pg_server.url() + "?sslmode=require")
    one_line_error(r, "refused the connection over SSL", "check sslmode")
    assert pg_server.password not in r.stderr


def test_missing_database_is_named(pg_server, cli):
    cli("add", "hello")
    r = run_fieldlog("sync", pg_server.url("no_such_db"))
    one_line_error(r, "has no database no_such_db")
    assert pg_server.password not in r.stderr


def test_schema_mismatch_says_upgrade_this_laptop(pg_server, pg_url, pair, cli):
    a, _ = pair
    a.contacts.add({"summary": "hello"})
    do_sync(a, pg_url)
    pg_server.execute(pg_url, "UPDATE fieldlog_meta SET value = '99' WHERE key = 'sync_schema'")
    before = pg_server.execute(pg_url, "SELECT count(*) FROM fieldlog_changes")
    a.contacts.add({"summary": "not pushed"})
    r = cli("--db", str(a.path), "sync", pg_url, code=1)
    assert "upgrade fieldlog on this laptop" in r.stderr
    assert pg_server.password not in r.stderr
    assert pg_server.execute(pg_url, "SELECT count(*) FROM fieldlog_changes") == before


def test_no_permission_to_create_tables(pg_server, pg_url, cli):
    """PostgreSQL 15+ gives only the database's owner CREATE on schema public."""
    pg_server.execute(pg_url, "CREATE ROLE clerk LOGIN PASSWORD 'clerk-pw'")
    dbname = pg_url.rsplit("/", 1)[1]
    pg_server.execute(pg_url, f'GRANT CONNECT ON DATABASE "{dbname}" TO clerk')
    cli("add", "hello")
    url = pg_server.url(dbname, user="clerk", password="clerk-pw")
    r = run_fieldlog("sync", url)
    one_line_error(r, "refused to create fieldlog's tables", "GRANT CREATE ON SCHEMA public")
    assert "clerk-pw" not in r.stderr
    # Once the owner made the store, a clerk with SELECT and INSERT syncs fine.
    open_remote(pg_url).close()
    r = run_fieldlog("sync", url)
    one_line_error(r, "refused clerk access to fieldlog's tables")
    pg_server.execute(
        pg_url,
        "GRANT SELECT, INSERT ON fieldlog_changes, fieldlog_heads, fieldlog_trust TO clerk; "
        "GRANT SELECT, UPDATE ON fieldlog_meta TO clerk",
    )  # what the refusal says to grant
    r = run_fieldlog("sync", url, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["pushed"] == 1


def test_password_from_pgpassword_or_pgpass(pg_server, pg_url, pair, tmp_path, monkeypatch):
    """The URL need not hold the password: libpq reads PGPASSWORD and ~/.pgpass."""
    a, _ = pair
    a.contacts.add({"summary": "hello"})
    bare = pg_url.replace(f":{pg_server.password}@", "@")
    assert pg_server.password not in bare
    monkeypatch.setenv("PGPASSWORD", pg_server.password)
    assert do_sync(a, bare).pushed == 1
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg_server.port}:*:fieldlog_test:{pg_server.password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert do_sync(a, bare).pushed == 0
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    with pytest.raises(SyncError, match="refused the login"):
        do_sync(a, bare)


def test_a_push_waits_for_another_then_says_busy(pg_server, dept_url, pair, monkeypatch):
    """Another laptop's push holds the lock (here: an administrator holding it by hand: on a
    department store the agency's counter row, fieldlog.allocate's); the laptop syncs as an
    enrolled officer of a department store (row-level security on)."""
    from fieldlog.db.remotes import postgres as remote_pg

    _, url = dept_url
    a, _ = pair
    a.contacts.add({"summary": "hello"})
    open_remote(url).close()
    monkeypatch.setattr(remote_pg, "LOCK_TIMEOUT", "300ms")
    dbname = url.rsplit("/", 1)[1]
    with pg_server.admin_connect(dbname) as other:
        other.autocommit = False
        other.execute("SELECT 1 FROM fieldlog.counters WHERE agency = 'default' FOR UPDATE")
        started = time.monotonic()
        with pytest.raises(SyncError, match="is busy .another laptop is syncing"):
            do_sync(a, url)
        assert time.monotonic() - started < 10
        other.rollback()
    assert do_sync(a, url).pushed == 1


class KillsItsConnection:
    """Wraps a remote; the server ends the session before the Nth push (an administrator's
    pg_terminate_backend, a server restart, a dropped VPN all look the same)."""

    def __init__(self, inner: PostgresRemote, server: PgServer, at: int) -> None:
        self.inner, self.server, self.at, self.pushes = inner, server, at, 0
        self.url, self.store_id = inner.url, inner.store_id

    def head(self):
        return self.inner.head()

    def pull(self, after, limit):
        return self.inner.pull(after, limit)

    def push(self, origin, changes, head=None):
        self.pushes += 1
        if self.pushes == self.at:
            pid = self.inner.conn.info.backend_pid
            with self.server.admin_connect("postgres") as admin:
                admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
        return self.inner.push(origin, changes, head=head)

    def origin_changes(self, origin, after, limit):
        return self.inner.origin_changes(origin, after, limit)

    def __getattr__(self, name):  # the rest of the interface (trust log, heads, check_seq)
        return getattr(self.inner, name)

    def close(self):
        self.inner.close()


def test_connection_dropped_mid_sync_then_resumed(pg_server, dept, dept_url, pair, tmp_path):
    """As enrolled officers of a department store: Dana's laptop pushes, Sam's pulls."""
    _, url = dept_url
    a, b = pair
    for n in range(25):
        a.contacts.add({"summary": f"contact {n}"})
    remote = KillsItsConnection(open_remote(url), pg_server, at=2)
    with pytest.raises(SyncError, match="connection to the PostgreSQL server .* was lost"):
        sync.sync_with(a, remote, page=10)
    remote.close()
    assert len(remote_rows(url)) == 10  # the first page only: the second never committed
    r = do_sync(a, url, page=10)
    assert r.pushed == 15 and not r.new_device_id
    dept.trust(a)  # Sam's laptop applies what Dana's device pushed
    do_sync(b, dept.enroll("Sam Lee"))
    rows = remote_rows(url)
    assert len(rows) == 25 and [c.seq for c in rows] == list(range(1, 26))
    assert content(a) == content(b)


def test_dropped_connection_via_the_cli_is_one_line(pg_server, dept, dept_url, pair,
                                                    monkeypatch, cli):  # fmt: skip
    _, url = dept_url
    a, _ = pair
    a.contacts.add({"summary": "hello"})
    real_push = PostgresRemote.push

    def push_then_server_restarts(self, origin, changes, head=None):
        with pg_server.admin_connect("postgres") as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", [self.conn.info.backend_pid])
        return real_push(self, origin, changes, head)

    monkeypatch.setattr(PostgresRemote, "push", push_then_server_restarts)
    r = cli("--db", str(a.path), "sync", url, code=1)
    err = r.stderr.strip()
    assert "was lost during sync" in err and "run fieldlog sync again" in err
    assert len(err.splitlines()) == 1
    assert pg_server.password not in err and dept.passwords["fl_dana_ruiz"] not in err


def test_remote_add_then_sync_through_the_cli(pg_server, pg_url, cli, tmp_path):
    cli("add", "Met Pastor Reyes", "--concern", "youth:no lit court")
    cli("remote", "add", "dept", pg_url)
    listed = cli.json("remote", "list")
    assert listed == [{"name": "dept", "url": pg_url.replace(pg_server.password, "***")}]
    (res,) = cli.json("sync")
    assert (res["remote"], res["pushed"], res["pulled"]) == ("dept", 2, 0)
    assert cli.json("sync", "dept")[0]["pushed"] == 0
    other = tmp_path / "other.db"
    cli("--db", str(other), "init", "--officer", "Sam Lee")
    (res,) = cli.json("--db", str(other), "sync", pg_url)
    assert res["pulled"] == 2 and pg_server.password not in res["remote"]


# ---------------------------------------------------------------------- the fixture itself
def test_missing_postgres_fails_loudly_pointing_to_ci_run(monkeypatch, tmp_path):
    from tests.lib import pg

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pg, "_BIN_DIRS", (str(tmp_path / "nowhere" / "*"),))
    with pytest.raises(pg.PostgresMissing, match=r"\.ci/run .*FIELDLOG_SKIP_PG=1"):
        pg.find_bin_dir()

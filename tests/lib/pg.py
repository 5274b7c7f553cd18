"""A real, throwaway PostgreSQL server for the sync tests and benches (never a mock).

The server runs the installed PostgreSQL binaries (``initdb``, ``pg_ctl``: on PATH, in
``/usr/lib/postgresql/*/bin`` as Debian installs them, or ``/usr/local/bin``) on a free port of
127.0.0.1, with its data folder and unix socket in a temp folder that is removed when it stops.
``.ci/run`` installs PostgreSQL from Debian's packages when it is missing. initdb refuses to run
as root: as root the server runs as the ``postgres`` OS user (made by Debian's package), or
``nobody`` when there is none.

- :func:`server` starts it once per process (stopped at the end of the session, or at exit).
  Under pytest-xdist each worker process that runs a PostgreSQL test starts its own server:
  its own free port, data folder and socket folder (``mkdtemp``), so workers never meet.
- :func:`fresh_pg_url` gives a fresh, empty store: a new schema of the test database, chosen
  through ``search_path`` in the URL (about a millisecond: usable per hypothesis example).
- The ``pg_url`` fixture gives a fresh, empty *database* per test, with a plain URL
  ``postgresql://fieldlog_test:PASSWORD@127.0.0.1:PORT/DBNAME`` as a department would write it.
- :meth:`PgServer.fresh_dept_database` gives a fresh database holding a department store,
  copied from one set up once per server (a template copy instead of a setup per test);
  :class:`DeptUrl` (``any_url``'s ``dept`` variant, :func:`fresh_dept_url`) is its owner's
  URL that enrolls each laptop's officer a login of their own on first use.

``FIELDLOG_SKIP_PG=1`` skips the PostgreSQL tests explicitly (quick local runs); without it,
missing binaries fail loudly: the tests never skip silently.

The root ``tests/conftest.py`` registers this module as a plugin (``pytest_plugins``), so
every test can ask for ``pg_server`` and ``pg_url``; a test using them is marked ``pg``.
"""

from __future__ import annotations

import atexit
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

ROLE = "fieldlog_test"
DATABASE = "fieldlog_test"
SKIP_ENV = "FIELDLOG_SKIP_PG"
_BIN_DIRS = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/usr/local/bin")


class PostgresMissing(RuntimeError):
    pass


def skip_requested() -> bool:
    return os.environ.get(SKIP_ENV, "") not in ("", "0")


def find_bin_dir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl`` (the newest Debian version first)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    candidates: list[str] = []
    for pattern in _BIN_DIRS:
        candidates += sorted(glob.glob(pattern), key=_version_key, reverse=True)
    for folder in candidates:
        if os.access(Path(folder) / "initdb", os.X_OK) and os.access(
            Path(folder) / "pg_ctl", os.X_OK
        ):
            return Path(os.path.realpath(Path(folder) / "initdb")).parent
    raise PostgresMissing(
        "PostgreSQL's server binaries (initdb, pg_ctl) are not installed, and the sync tests "
        "run against a real server: run .ci/run (it installs them from Debian's packages: "
        "apt-get install postgresql), or set FIELDLOG_SKIP_PG=1 to skip these tests."
    )


def _version_key(path: str) -> tuple[int, ...]:
    parts = [p for p in Path(path).parts if p.replace(".", "").isdigit()]
    return tuple(int(x) for x in parts[0].split(".")) if parts else (0,)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> tuple[int | None, int | None]:
    """(uid, gid) to run the server as: ours, unless we are root (POSIX: Windows has no root,
    no ``pwd`` and no ``os.geteuid``, and the server runs as us)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None, None
    try:
        import pwd
    except ImportError:
        return None, None
    for name in ("postgres", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return pw.pw_uid, pw.pw_gid
    raise PostgresMissing(
        "Running as root with no 'postgres' (or 'nobody') OS user to run PostgreSQL as: "
        "install PostgreSQL from Debian's packages (apt-get install postgresql) or run the "
        "tests as an ordinary user."
    )


@dataclass
class PgServer:
    """One running throwaway server."""

    bin_dir: Path
    root: Path
    port: int
    password: str
    uid: int | None
    gid: int | None
    superuser: str = "postgres"
    _proc_env: dict[str, str] = field(default_factory=dict)
    _db_count: int = 0
    _schema_count: int = 0
    _admin: object = None  # a psycopg connection to the test database, as superuser
    _dept_template: str | None = None  # a set-up department store, copied per test
    stopped: bool = False

    # ---------------------------------------------------------------- lifecycle
    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def _cmd(self, *args: str, check: bool = True, timeout: float = 120) -> str:
        proc = subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            user=self.uid,
            group=self.gid,
            extra_groups=[] if self.uid is not None else None,
            env=self._proc_env,
            cwd=self.root,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            log = ""
            logfile = self.root / "server.log"
            if logfile.exists():
                log = "\n--- server.log ---\n" + logfile.read_text(errors="replace")[-3000:]
            raise RuntimeError(
                f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}{log}"
            )
        return proc.stdout

    @classmethod
    def start(cls, *, fsync: bool = False) -> PgServer:
        bin_dir = find_bin_dir()
        uid, gid = _run_as()
        root = Path(tempfile.mkdtemp(prefix="fieldlog-pg-"))
        os.chmod(root, 0o700)
        if uid is not None:
            os.chown(root, uid, gid if gid is not None else -1)
        env = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",
        }
        server = cls(bin_dir, root, 0, secrets.token_hex(12), uid, gid, _proc_env=env)
        try:
            server._initdb()
            server._launch(fsync=fsync)
            server._bootstrap()
        except BaseException:
            server.stop()
            raise
        atexit.register(server.stop)
        return server

    def _initdb(self) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self.uid is not None:
            os.chown(pwfile, self.uid, self.gid if self.gid is not None else -1)
        self._cmd(
            str(self.bin_dir / "initdb"),
            "-D", str(self.data),
            "-U", self.superuser,
            "--pwfile", str(pwfile),
            "-E", "UTF8",
            "--no-locale",
            "--no-sync",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        )  # fmt: skip
        pwfile.unlink()
        self.socket_dir.mkdir()
        if self.uid is not None:
            os.chown(self.socket_dir, self.uid, self.gid if self.gid is not None else -1)

    def _launch(self, *, fsync: bool) -> None:
        opts = [
            f"-k {self.socket_dir}",
            "-h 127.0.0.1",
            "-c max_connections=60",
            "-c shared_buffers=32MB",
            "-c listen_addresses=127.0.0.1",
        ]
        if not fsync:
            opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        last: Exception | None = None
        for _ in range(5):  # a free port can be taken between finding and binding it
            self.port = _free_port()
            try:
                self._cmd(
                    str(self.bin_dir / "pg_ctl"),
                    "-D", str(self.data),
                    "-l", str(self.root / "server.log"),
                    "-o", " ".join([*opts, f"-p {self.port}"]),
                    "-w", "-t", "60",
                    "start",
                )  # fmt: skip
                return
            except RuntimeError as exc:
                last = exc
                time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL would not start: {last}")

    def _bootstrap(self) -> None:
        import psycopg
        from psycopg import sql

        with self.admin_connect("postgres") as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(ROLE), sql.Literal(self.password)
                )
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(DATABASE), sql.Identifier(ROLE)
                )
            )
        self._admin = psycopg.connect(**self._admin_params(DATABASE), autocommit=True)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self._admin is not None:
            try:
                self._admin.close()  # type: ignore[attr-defined]
            except Exception:
                pass
        if (self.data / "postmaster.pid").exists():
            try:
                self._cmd(
                    str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                    "-w", "stop", check=False, timeout=60,
                )  # fmt: skip
            except (OSError, subprocess.SubprocessError):
                pass
        shutil.rmtree(self.root, ignore_errors=True)

    # ---------------------------------------------------------------- connections
    def _admin_params(self, dbname: str) -> dict[str, object]:
        return {
            "host": str(self.socket_dir),
            "port": self.port,
            "user": self.superuser,
            "dbname": dbname,
        }

    def admin_connect(self, dbname: str = DATABASE):  # -> psycopg.Connection
        """A superuser connection over the unix socket (autocommit)."""
        import psycopg

        return psycopg.connect(**self._admin_params(dbname), autocommit=True)

    def url(self, dbname: str = DATABASE, *, user: str = ROLE, password: str | None = None,
            schema: str | None = None) -> str:  # fmt: skip
        pw = self.password if password is None else password
        out = f"postgresql://{quote(user, safe='')}:{quote(pw, safe='')}@127.0.0.1:{self.port}"
        out += f"/{dbname}"
        if schema:
            out += f"?options=-csearch_path%3D{schema}"
        return out

    def fresh_database(self) -> str:
        """A new, empty database owned by the test role; returns its plain URL."""
        from psycopg import sql

        self._db_count += 1
        name = f"t{os.getpid()}_{self._db_count}"
        with self.admin_connect("postgres") as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0").format(
                    sql.Identifier(name), sql.Identifier(ROLE)
                )
            )
        return self.url(name)

    def fresh_dept_database(self) -> str:
        """A new database holding a department store (``fieldlog dept setup``, default
        agency, no one enrolled), copied from one set up once per server (a template copy is
        ~0.05 s, a setup ~0.3-0.6 s); its store id is made anew, so no two stores share one.
        Returns the owner's plain URL."""
        from psycopg import sql

        from fieldlog import ids

        if self._dept_template is None:
            template = self.fresh_database()
            make_dept(self, template)  # closes its connections: the template can be copied
            self._dept_template = template.rsplit("/", 1)[1]
        allow_enroll(self)
        self._db_count += 1
        name = f"t{os.getpid()}_{self._db_count}"
        with self.admin_connect("postgres") as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(ROLE), sql.Identifier(self._dept_template)
                )
            )
        url = self.url(name)
        self.execute(
            url,
            "UPDATE fieldlog.fieldlog_meta SET value = %s WHERE key = 'store_id'",
            [ids.uuid7_hex()],
        )
        return url

    def drop_database(self, url: str) -> None:
        from psycopg import sql

        name = url.rsplit("/", 1)[1].split("?", 1)[0]
        with self.admin_connect("postgres") as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def fresh_schema(self) -> str:
        """A new, empty schema in the test database (the store's tables go there through the
        URL's ``search_path``); returns the URL. About a millisecond."""
        from psycopg import sql

        self._schema_count += 1
        name = f"s{self._schema_count}"
        self._admin.execute(  # type: ignore[attr-defined]
            sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(
                sql.Identifier(name), sql.Identifier(ROLE)
            )
        )
        return self.url(schema=name)

    def execute(self, url: str, query: str, params: tuple | list = ()) -> list[tuple]:
        """Run SQL as superuser in the database (and schema) a test URL names."""
        import psycopg

        dbname = url.rsplit("/", 1)[1].split("?", 1)[0]
        options = {}
        if "search_path%3D" in url:
            options["options"] = f"-csearch_path={url.rsplit('%3D', 1)[1]}"
        with psycopg.connect(**self._admin_params(dbname), **options, autocommit=True) as conn:
            cur = conn.execute(query, params)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []


_SERVER: PgServer | None = None


def server() -> PgServer:
    """The process's throwaway server, started on first use."""
    global _SERVER
    if skip_requested():
        pytest.skip(f"{SKIP_ENV} is set: PostgreSQL tests skipped")
    if _SERVER is None or _SERVER.stopped:
        try:
            _SERVER = PgServer.start()
        except PostgresMissing as exc:
            pytest.fail(str(exc), pytrace=False)
    return _SERVER


def fresh_pg_url() -> str:
    """A fresh, empty PostgreSQL store URL (a new schema): cheap enough per hypothesis example."""
    return server().fresh_schema()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop this process's server (each xdist worker's too) when the tests are done, also
    one started by :func:`fresh_pg_url` alone; ``atexit`` stays the fallback."""
    if _SERVER is not None:
        _SERVER.stop()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    srv = server()
    yield srv
    srv.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, empty database per test (a plain ``postgresql://`` URL)."""
    url = pg_server.fresh_database()
    yield url
    try:
        pg_server.drop_database(url)
    except Exception:
        pass


# ---------------------------------------------------------------------- department stores
@dataclass
class Dept:
    """A department store (``fieldlog dept setup``) in a fresh database, and a way to enroll
    people in it (``fieldlog dept enroll``), connect as them, and have its supervisor's laptop
    found the trust list and trust laptops. ``url`` is the owner's (the test role, given
    CREATEROLE for enrolling logins)."""

    server: PgServer
    url: str
    home: Path
    passwords: dict[str, str] = field(default_factory=dict)
    boss_url: str = ""  # the supervisor's, once boss() made it
    _boss: object = None  # the supervisor's laptop (a Store), made by boss()

    def enroll(self, officer: str, role: str = "officer", unit: str | None = None,
               agency: str | None = None, login: str | None = None) -> str:  # fmt: skip
        """Enroll a person (the login gets a fresh password: logins are cluster-wide and an
        earlier test may have made it) and return the URL their laptop syncs with."""
        from fieldlog.db.remotes import dept, roles
        from fieldlog.db.remotes.pgerrors import login_url

        password = secrets.token_urlsafe(12)
        with dept.open_admin(self.url) as conn:
            done = roles.enroll(conn, officer=officer, role=role, unit=unit, agency=agency,
                                login=login, password=password)  # fmt: skip
        self.passwords[done.login] = password
        return login_url(self.url, done.login, password)

    def connect(self, url: str):  # -> psycopg.Connection
        """A connection as the login of ``url`` (autocommit), the way a BI tool or psql
        would connect: no fieldlog code in between."""
        import psycopg

        return psycopg.connect(url, autocommit=True)

    def owner(self, query: str, params: tuple | list = ()) -> list[tuple]:
        """Run SQL as the superuser in the store's database."""
        return self.server.execute(self.url, query, params)

    def boss(self):  # -> Store
        """The supervisor's laptop (Sue Boss, of no unit), synced once: it founds the trust
        list (only a supervisor may), so officers' laptops can register."""
        if self._boss is None:
            from fieldlog.db.store import Store
            from tests.lib.sync_helpers import do_sync

            boss = Store.open(self.home / "dept-boss.db")
            boss.set_officer("Sue Boss")
            self.boss_url = self.enroll("Sue Boss", "supervisor")
            do_sync(boss, self.boss_url)
            self._boss = boss
        return self._boss

    def trust(self, *laptops) -> None:
        """The supervisor trusts each laptop (registered already: synced once), as ``fieldlog
        dept trust``: other laptops then apply its changes."""
        trust_laptops(self.boss(), self.boss_url, *laptops)

    def close(self) -> None:
        if self._boss is not None:
            self._boss.close()  # type: ignore[attr-defined]


def trust_laptops(boss, boss_url: str, *laptops) -> None:
    """The supervisor's laptop ``boss`` (syncing through ``boss_url``) trusts each laptop
    (registered already: synced once) as an officer, as ``fieldlog dept trust`` does."""
    from fieldlog.db import devkeys
    from fieldlog.db.devices import Trust
    from fieldlog.db.remotes.factory import open_remote

    remote = open_remote(boss_url)
    try:
        t = Trust(boss, remote, remote.store_id)
        t.prepare()
        for s in laptops:
            key = devkeys.load(s)
            assert key is not None
            t.trust(key.device, "officer")
    finally:
        remote.close()


def allow_enroll(srv: PgServer) -> None:
    """Let the test role create logins (``dept enroll`` runs as the store's owner, who needs
    CREATEROLE); harmless to repeat."""
    srv._admin.execute(f"ALTER ROLE {ROLE} CREATEROLE")  # type: ignore[attr-defined]


def make_dept(srv: PgServer, url: str, agency: str | None = None, home: Path | None = None) -> Dept:
    """Set up the store at ``url`` (``agency``: its default agency); ``home``: where its
    supervisor's laptop lives (default: a folder of the server's, removed with it)."""
    from fieldlog.db.remotes import dept

    allow_enroll(srv)
    dept.setup(url, agency)
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="dept-", dir=srv.root))
    return Dept(srv, url, home)


@pytest.fixture
def dept(pg_server: PgServer, pg_url: str, tmp_path: Path) -> Iterator[Dept]:
    """A department store set up in a fresh database (no one enrolled yet)."""
    d = make_dept(pg_server, pg_url, home=tmp_path)
    yield d
    d.close()


@pytest.fixture
def dept_url(dept: Dept) -> tuple[str, str]:
    """(the set-up store's owner URL, the URL of an enrolled officer, Dana Ruiz, of no unit):
    the trust list is founded by the store's supervisor (:meth:`Dept.boss`), so a laptop of
    Dana's syncs through it as any laptop does (``pair``'s first laptop is Dana's)."""
    dept.boss()
    return dept.url, dept.enroll("Dana Ruiz")


# ---------------------------------------------------------------------- any_url's "dept" variant
class DeptUrl(str):
    """``any_url`` on a department store: the text is the owner's URL (schema ``fieldlog`` in
    its ``search_path``, so raw SQL, planting rows and ``open_remote`` work there as the owner,
    who bypasses row-level security), and :meth:`login` gives each laptop a login of its own
    (``fieldlog dept enroll``), as a department does: tests/lib/sync_helpers.url_for."""

    dept: Dept
    logins: dict[str, tuple[str, str]]  # officer -> (role, the URL their laptop syncs with)

    def __new__(cls, dept: Dept) -> DeptUrl:
        self = super().__new__(cls, f"{dept.url}?options=-csearch_path%3Dfieldlog")
        self.dept = dept
        self.logins = {}
        return self

    def login(self, officer: str, role: str | None = None) -> str:
        """The URL of ``officer``'s login, enrolled on first use: ``role`` if given, else a
        supervisor for the store's first login (its laptop founds the trust list, which only
        a supervisor may) and an officer for the others, all of no unit (they read every
        unit). An officer asked for as a supervisor later is made one."""
        had = self.logins.get(officer)
        if had is not None and (role is None or role == had[0] or role == "officer"):
            return had[1]
        if role is None:
            role = "officer" if self.logins else "supervisor"
        url = self.dept.enroll(officer, role)
        self.logins[officer] = (role, url)
        return url

    def drop(self) -> None:
        """Drop the store's database (logins are the cluster's: they stay, re-enrolled with a
        fresh password by the next store that enrolls them)."""
        self.dept.server.drop_database(self.dept.url)

    def login_name(self, officer: str) -> str | None:
        """The database login of ``officer`` (None: not enrolled)."""
        from fieldlog.db.remotes.roles import login_for

        return login_for(officer) if officer in self.logins else None


def fresh_dept_url(tmp: Path | None = None) -> DeptUrl:
    """A fresh department store (a template copy, :meth:`PgServer.fresh_dept_database`)."""
    srv = server()
    return DeptUrl(Dept(srv, srv.fresh_dept_database(), tmp or Path(srv.root)))

"""Opening a log file: checks, pragmas, and turning SQLite's errors into plain words.

Plain ``sqlite3`` here, not sqlite-utils: importing sqlite-utils costs ~150 ms, more than the
whole of ``fieldlog add`` is allowed (see bench/bench_add.py). sqlite-utils runs the migrations
and the bulk paths, which import it when they run.

An encrypted log (SQLCipher) is opened with ``sqlcipher3`` instead, imported only then (~12 ms
more). The two modules raise different exception classes: catch ``db_error(conn)`` (or
``Store.db_error``), never ``sqlite3.DatabaseError`` alone, around a log's connection.

Every SQLCipher file is read and written with SQLCipher 4's settings, named explicitly
(:data:`CIPHER_COMPATIBILITY`), so a binding that ships a SQLCipher with other defaults still
opens the logs officers already have (tests/store/test_crypto_compat.py). A new log is created
owner-only (0600) before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fieldlog.errors import StorageError

APPLICATION_ID = 0x464C4F47  # "FLOG" in the SQLite header: marks a file as a fieldlog log
SQLITE_HEADER = b"SQLite format 3\x00"
PASSPHRASE_ENV = "FIELDLOG_PASSPHRASE"
MAX_TRIES = 3  # passphrases typed at a prompt before giving up
# SQLCipher 4's settings (PBKDF2-HMAC-SHA512, 256,000 iterations, 4096-byte pages, HMAC-SHA512):
# the ones every encrypted log so far was written with (docs/encryption.md).
CIPHER_COMPATIBILITY = 4

# ``ask(path, new, retry)``: a passphrase typed by the user for the log at ``path`` (``new``: a
# log being created, so confirm it; ``retry``: the last one typed was wrong), or None when
# nobody can be asked (no terminal).
AskPassphrase = Callable[[Path, bool, bool], "str | None"]


class PassphraseNeeded(StorageError):
    """The log is encrypted and no passphrase was given, set or typed."""


class WrongPassphrase(StorageError):
    """The passphrase does not open the log (or the file is not a fieldlog log at all)."""


def busy_timeout_ms() -> int:
    """How long a write waits for another program's (``$FIELDLOG_BUSY_TIMEOUT_MS``, 10 s by
    default); a bad value is a one-line error (fieldlog.settings), never silently 10 s."""
    from fieldlog import settings

    return settings.busy_timeout_ms()


def explain(exc: BaseException, path: Path | str) -> StorageError:
    """An sqlite3 error as one line that names the problem and the fix."""
    msg = str(exc).lower()
    if "locked" in msg or "busy" in msg:
        return StorageError(
            f"The log {path} is locked by another program (another fieldlog or a sync is "
            "writing): wait a moment and try again."
        )
    if "readonly" in msg or "read-only" in msg:
        return StorageError(
            f"The log {path} is read-only: check the file's permissions and the drive, or use "
            "--db to choose a log you can write."
        )
    if "full" in msg:
        return StorageError(f"The disk holding {path} is full: free some space and try again.")
    if "not a database" in msg or "malformed" in msg:
        return StorageError(
            f"{path} is not a fieldlog log (or it is damaged): check --db / FIELDLOG_DB, or "
            "restore it from a backup."
        )
    if "unable to open" in msg:
        return StorageError(
            f"Cannot open the log {path}: check that its folder exists and you may write there."
        )
    return StorageError(f"The log {path} could not be used ({exc}): check --db / FIELDLOG_DB.")


def log_kind(path: Path) -> str:
    """``"new"`` (no file yet, or an empty one), ``"plain"`` or ``"encrypted"``.

    SQLCipher encrypts the header too, so an encrypted log looks like random bytes: a file
    without SQLite's header whose size is a whole number of 512-byte pages may be one, and only
    its passphrase can tell. Anything else (a text file, a folder) is refused here, before
    SQLite touches it."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
            size = os.fstat(fh.fileno()).st_size
    except FileNotFoundError:
        return "new"
    except IsADirectoryError:
        raise StorageError(f"{path} is a folder, not a log file: give --db a file path.") from None
    except PermissionError:
        raise StorageError(
            f"Cannot read the log {path}: you do not have permission to open it."
        ) from None
    if not head:
        return "new"
    if head == SQLITE_HEADER:
        return "plain"
    if size >= 512 and size % 512 == 0:
        return "encrypted"
    raise StorageError(
        f"{path} is not a fieldlog log (it is not an SQLite database): check --db / FIELDLOG_DB."
    )


def check_header(path: Path) -> None:
    """Refuse a file that cannot be a log (plain or encrypted), before SQLite touches it."""
    log_kind(path)


def is_encrypted(path: Path | str) -> bool:
    """True for an existing file that can only be an encrypted log (see :func:`log_kind`)."""
    return str(path) != ":memory:" and log_kind(Path(path)) == "encrypted"


def env_passphrase() -> str | None:
    """``$FIELDLOG_PASSPHRASE``, if set and not empty."""
    return os.environ.get(PASSPHRASE_ENV) or None


def db_error(conn: Any) -> type[Exception]:
    """The ``DatabaseError`` class of the module that opened ``conn``: sqlite3's for a plain
    log, sqlcipher3's (a different class) for an encrypted one. Evaluated in an ``except``
    clause only when an error is raised, so it costs nothing on the way."""
    if isinstance(conn, sqlite3.Connection):
        return sqlite3.DatabaseError
    return _cipher_module().DatabaseError


def passphrase_of(conn: Any) -> str | None:
    """The passphrase ``conn`` was keyed with (None for a plain log): kept in memory so a
    backup, a migration's copy or export's second process can open the log the same way."""
    return getattr(conn, "fieldlog_passphrase", None)


def _cipher_module() -> Any:
    try:
        from sqlcipher3 import dbapi2
    except ImportError:
        raise StorageError(
            "Encrypted logs need SQLCipher, which is missing: install it with  "
            "pip install sqlcipher3"
        ) from None
    return dbapi2


_cipher_factory: Any = None


def _cipher_connection_class() -> Any:
    global _cipher_factory
    if _cipher_factory is None:

        class CipherConnection(_cipher_module().Connection):  # type: ignore[misc]
            """An SQLCipher connection that remembers its passphrase."""

            fieldlog_passphrase: str | None = None

        _cipher_factory = CipherConnection
    return _cipher_factory


def _sql_text(value: str) -> str:
    if "\x00" in value:
        raise StorageError("A passphrase cannot contain a NUL character: choose another one.")
    return "'" + value.replace("'", "''") + "'"


def open_cipher(path: Path | str, passphrase: str | None, *, check: bool = True) -> Any:
    """An sqlcipher3 connection to ``path`` keyed with ``passphrase`` (None: no key, a plain
    file opened through SQLCipher, for ``sqlcipher_export``), foreign keys on, temporary
    tables and indexes kept in memory (never a plaintext temp file). ``check`` reads the schema
    so a wrong passphrase fails here, as :class:`WrongPassphrase`; the file is only read."""
    dbapi = _cipher_module()
    timeout = busy_timeout_ms()
    try:
        conn = dbapi.connect(
            str(path),
            isolation_level=None,
            timeout=timeout / 1000,
            check_same_thread=False,
            factory=_cipher_connection_class(),
        )
    except dbapi.DatabaseError as exc:
        raise explain(exc, path) from None
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")  # our one line, not SQLCipher's log
        # Before the key: the settings this connection, the files it attaches (the copies of
        # encrypt and decrypt) and every later connection of the process use.
        conn.execute(f"PRAGMA cipher_default_compatibility = {CIPHER_COMPATIBILITY}")
        if passphrase is not None:
            conn.execute(f"PRAGMA key = {_sql_text(passphrase)}")
            conn.fieldlog_passphrase = passphrase
        conn.execute(f"PRAGMA busy_timeout = {timeout}")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA foreign_keys = ON")
        if check:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except dbapi.DatabaseError as exc:
        conn.close()
        if passphrase is not None and "not a database" in str(exc).lower():
            raise WrongPassphrase(
                f"The passphrase does not open the log {path} (or it is not a fieldlog log)."
            ) from None
        raise explain(exc, path) from None
    except BaseException:
        conn.close()
        raise
    return conn


def _make_folder(path: Path) -> None:
    if not path.parent.exists():
        try:
            path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"Cannot create the folder {path.parent} for the log: {exc.strerror}."
            ) from None


def _create_private(path: Path) -> bool:
    """The empty file of a new log, readable and writable by its owner only (0600), made
    before SQLite opens it: SQLite would create it with the umask's mode (often 0644, readable
    by every account on the machine), and it gives the log's -wal and -shm files the mode of
    the log. On Windows the mode means nothing; the user profile folder's permissions protect
    the log (docs/install.md). False when the file was already there (empty, or made by
    another fieldlog in between)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise StorageError(
            f"Cannot create the log {path}: {exc.strerror or exc}. Check that you may write in "
            "its folder, or use --db to choose another log."
        ) from None
    os.close(fd)
    return True


def _drop_empty(path: Path) -> None:
    """Remove the empty file :func:`_create_private` made when the log could not be opened
    after all (no passphrase, say): a failed command leaves no stray file."""
    try:
        if path.stat().st_size == 0:
            path.unlink()
    except OSError:
        pass


def _open_keyed(
    path: Path, new: bool, passphrase: str | None, ask: AskPassphrase | None, use_env: bool
) -> Any:
    """An encrypted log (or a new one), keyed from ``passphrase``, else the environment,
    else what ``ask`` returns (up to MAX_TRIES typed passphrases)."""
    given = passphrase if passphrase is not None else env_passphrase() if use_env else None
    if given is not None:
        try:
            return open_cipher(path, given, check=not new)
        except WrongPassphrase:
            where = "given" if passphrase is not None else f"in {PASSPHRASE_ENV}"
            raise WrongPassphrase(
                f"The passphrase {where} does not open the log {path}: set the right one (or "
                "check --db / FIELDLOG_DB: the file may not be a fieldlog log)."
            ) from None
    for attempt in range(MAX_TRIES):
        typed = ask(path, new, attempt > 0) if ask is not None else None
        if typed is None:
            if new:
                raise PassphraseNeeded(
                    f"An encrypted log needs a passphrase: set {PASSPHRASE_ENV}, or run the "
                    "command in a terminal to type one."
                )
            raise PassphraseNeeded(
                f"The log {path} is encrypted: set {PASSPHRASE_ENV} to its passphrase, or run "
                "fieldlog in a terminal to type it."
            )
        if new and not typed:
            raise StorageError("A passphrase cannot be empty: choose one you will remember.")
        try:
            return open_cipher(path, typed, check=not new)
        except WrongPassphrase:
            continue
    raise WrongPassphrase(
        f"Wrong passphrase for the log {path} ({MAX_TRIES} tries): check it and try again (or "
        "check --db / FIELDLOG_DB: the file may not be a fieldlog log)."
    )


def connect(
    path: Path | str,
    *,
    passphrase: str | None = None,
    ask: AskPassphrase | None = None,
    encrypt: bool = False,
    use_env: bool = True,
) -> Any:
    """Open (creating if needed) with foreign keys and a busy timeout; no schema checks.

    A plain log opens with sqlite3 (the passphrase is not used) and an encrypted one with
    sqlcipher3, keyed with ``passphrase``, else ``$FIELDLOG_PASSPHRASE``, else what ``ask``
    returns (``use_env=False``: not the environment). A new log is encrypted when ``encrypt``
    is set or a passphrase is given or set. A remote or a backup opens the same way, with the
    passphrase it was written with."""
    if str(path) == ":memory:":
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA foreign_keys = ON")
        return conn
    path = Path(path)
    kind = log_kind(path)
    env = env_passphrase() if use_env else None
    if kind == "encrypted" or (kind == "new" and (encrypt or passphrase is not None or env)):
        if kind != "new":
            return _open_keyed(path, False, passphrase, ask, use_env)
        _make_folder(path)
        made = _create_private(path)
        try:
            return _open_keyed(path, True, passphrase, ask, use_env)
        except BaseException:
            if made:
                _drop_empty(path)
            raise
    _make_folder(path)
    made = kind == "new" and _create_private(path)
    timeout = busy_timeout_ms()
    try:
        conn = sqlite3.connect(
            path, isolation_level=None, timeout=timeout / 1000, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {timeout}")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        if made:
            _drop_empty(path)
        raise explain(exc, path) from None
    return conn


def copy_log(conn: Any, dest: Path) -> None:
    """A consistent copy of ``conn``'s log into ``dest`` (created or replaced) through SQLite's
    online backup API, keyed like ``conn``: an encrypted log's copy is encrypted with the same
    passphrase. One self-contained file (no -wal), readable by its owner only."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if hasattr(os, "fchmod"):  # a file that was there keeps its mode otherwise (0644?)
            os.fchmod(fd, 0o600)
    except OSError:
        pass
    finally:
        os.close(fd)
    if isinstance(conn, sqlite3.Connection):
        target = sqlite3.connect(dest)
    else:  # the backup API needs both ends in one library; keyed (or not) like ``conn``
        target = open_cipher(dest, passphrase_of(conn), check=False)
    try:
        conn.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")
    finally:
        target.close()


def use_wal(conn: sqlite3.Connection, path: Path | str) -> None:
    """WAL (the CLI and the TUI can be open at once) and FULL sync (an acknowledged write
    survives a power cut, not only a crash). Called only once the file is known to be a log,
    so a file that is not ours is never changed."""
    if str(path) == ":memory:":
        return
    import time

    # Switching a new file to WAL needs it to itself, and SQLite does not wait on the busy
    # handler for that: when several fieldlogs create the same log at once, try again for up
    # to the busy timeout before saying the log is locked.
    deadline = time.monotonic() + busy_timeout_ms() / 1000
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            return
        except db_error(conn) as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise explain(exc, path) from None
            time.sleep(0.05)

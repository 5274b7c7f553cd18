"""How a PostgreSQL remote's failures become one line: who, where, and the fix, never the
password; and the URL a department's login syncs with. A helper of
:mod:`fieldlog.db.remotes.postgres` (psycopg is imported inside the functions, as there); it
imports only the types.

A push the department store refuses (``fieldlog.may_push`` or a row-level security policy,
:mod:`fieldlog.db.remotes.roles`: SQLSTATE 42501 while writing) is one line saying what was
refused and why: its transaction rolled back, so nothing of it is in the store, and the
laptop keeps its outbox and cursors as they were (:func:`refused`).
"""

from __future__ import annotations

import getpass
import os
import re
from typing import Any
from urllib.parse import quote, urlencode

from fieldlog.db.remotes.types import SyncError, safe_url

__all__ = [
    "Target", "connect_error", "explain", "login_url", "reason", "refused", "url_password",
]  # fmt: skip

GRANTS = (
    "GRANT SELECT, INSERT ON fieldlog_changes, fieldlog_heads, fieldlog_trust TO {user}; "
    "GRANT SELECT, UPDATE ON fieldlog_meta TO {user}"
)


class Target:
    """Who and where, for messages (never the password)."""

    def __init__(self, url: str, params: dict[str, Any]) -> None:
        self.url = safe_url(url)
        self.password = str(params.get("password") or "")
        host = str(params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "")
        port = str(params.get("port") or os.environ.get("PGPORT") or "5432")
        self.server = f"{host}:{port}" if host and not host.startswith("/") else (
            f"the local socket ({host or 'default'}), port {port}"
        )  # fmt: skip
        try:
            default_user = getpass.getuser()
        except Exception:  # no user name in this environment
            default_user = "(your login)"
        self.user = str(params.get("user") or os.environ.get("PGUSER") or default_user)
        self.dbname = str(params.get("dbname") or os.environ.get("PGDATABASE") or self.user)

    def scrub(self, text: str) -> str:
        """An error text as it may be shown: one line, no password in it."""
        text = " ".join(str(text).split())
        text = text.removeprefix("connection failed: ")
        if self.password:
            for secret in {self.password, quote(self.password, safe="")}:
                text = text.replace(secret, "***")
        return safe_url(text)


def reason(exc: BaseException) -> str:
    """The server's own words, without libpq's prefixes."""
    text = " ".join(str(exc).split())
    return re.sub(r"^.*?failed: (FATAL: )?", "", text) if "failed: " in text else text


def connect_error(exc: BaseException, t: Target) -> SyncError:
    msg = str(exc).lower()
    if (
        "password authentication failed" in msg
        or "no password supplied" in msg
        or "authentication failed" in msg
        or ("role" in msg and "does not exist" in msg)
    ):
        return SyncError(
            f"PostgreSQL refused the login for {t.user}: check the user and password in the "
            "remote URL (fieldlog remote list), or in ~/.pgpass."
        )
    if "pg_hba.conf" in msg:
        return SyncError(
            f"The PostgreSQL server at {t.server} does not accept {t.user} from this laptop "
            "(no pg_hba.conf entry): ask its administrator (docs/sync-postgres.md)."
        )
    if "database" in msg and "does not exist" in msg:
        return SyncError(
            f"The PostgreSQL server at {t.server} has no database {t.dbname}: check the "
            "database name in the remote URL (fieldlog remote list), or ask its administrator "
            "to create it (docs/sync-postgres.md)."
        )
    if "resolve host" in msg or "translate host name" in msg:
        return SyncError(
            f"Cannot reach the PostgreSQL server at {t.server}: its name does not resolve. "
            "Check the host in the remote URL; is the laptop on the network?"
        )
    if "too many" in msg and "connection" in msg:
        return SyncError(
            f"The PostgreSQL server at {t.server} has too many connections open: try again "
            "in a moment."
        )
    if "starting up" in msg or "shutting down" in msg or "recovery mode" in msg:
        return SyncError(
            f"The PostgreSQL server at {t.server} is starting up or shutting down: try again "
            "in a moment."
        )
    if "ssl" in msg and ("requir" in msg or "certificate" in msg or "not support" in msg):
        return SyncError(
            f"The PostgreSQL server at {t.server} refused the connection over SSL "
            f"({t.scrub(reason(exc))}): check sslmode in the remote URL (docs/sync-postgres.md)."
        )
    if (
        "connection refused" in msg
        or "timeout" in msg
        or "timed out" in msg
        or "no route to host" in msg
        or "network is unreachable" in msg
        or "could not connect" in msg
        or "connection to server" in msg
        or "server closed the connection" in msg
    ):
        return SyncError(
            f"Cannot reach the PostgreSQL server at {t.server}: is it running and is the "
            "laptop on the network?"
        )
    return SyncError(f"Cannot connect to the PostgreSQL remote {t.url} ({t.scrub(reason(exc))}).")


def explain(exc: BaseException, t: Target, conn: Any = None, doing: str = "") -> SyncError:
    """A server error during use as one line."""
    import psycopg
    from psycopg import errors as pe

    lost = (
        (conn is not None and (conn.broken or conn.closed))
        or isinstance(exc, pe.AdminShutdown | pe.CrashShutdown | pe.ConnectionFailure)
        or (isinstance(exc, psycopg.OperationalError) and getattr(exc, "sqlstate", None) is None)
    )
    if lost:
        return SyncError(
            f"The connection to the PostgreSQL server at {t.server} was lost during sync: what "
            "was committed stays, nothing is half-written; run fieldlog sync again."
        )
    if isinstance(exc, pe.InsufficientPrivilege):
        said = refused(exc, t)
        if said is not None:
            return said
        if doing == "upgrade":
            return SyncError(
                f"The remote {t.url} was made by an older fieldlog and {t.user} may not upgrade "
                f"its tables ({t.scrub(reason(exc))}): run one fieldlog sync as the tables' "
                "owner first (docs/sync-postgres.md)."
            )
        if doing == "create" and "for table" not in str(exc):
            return SyncError(
                f"PostgreSQL refused to create fieldlog's tables in {t.dbname} for {t.user} "
                f"({t.scrub(reason(exc))}): make {t.user} the database's owner or "
                f"GRANT CREATE ON SCHEMA public TO {t.user} (docs/sync-postgres.md)."
            )
        return SyncError(
            f"PostgreSQL refused {t.user} access to fieldlog's tables in {t.dbname} "
            f"({t.scrub(reason(exc))}): {GRANTS.format(user=t.user)} (docs/sync-postgres.md)."
        )
    if isinstance(exc, pe.LockNotAvailable | pe.QueryCanceled | pe.DeadlockDetected):
        return SyncError(
            f"The remote {t.url} is busy (another laptop is syncing): try again in a moment."
        )
    if isinstance(exc, pe.CheckViolation) and "no partition of relation" in str(exc):
        return SyncError(
            f"The department store {t.url} has no partition for this login's agency "
            f"({t.scrub(reason(exc))}): its owner runs  fieldlog dept setup URL --agency NAME  "
            "(docs/department.md)."
        )
    if isinstance(exc, pe.InvalidSchemaName):
        return SyncError(
            f"PostgreSQL has no schema to create fieldlog's tables in, in {t.dbname} "
            f"({t.scrub(reason(exc))}): check search_path, or create the schema "
            "(docs/sync-postgres.md)."
        )
    if isinstance(exc, pe.UndefinedTable | pe.UndefinedColumn | pe.InvalidColumnReference):
        return SyncError(
            f"{t.url} is not a fieldlog sync store (its fieldlog tables are missing or are "
            "someone else's): check the remote's URL (fieldlog remote list)."
        )
    if isinstance(exc, pe.DiskFull | pe.OutOfMemory | pe.InsufficientResources):
        return SyncError(
            f"The PostgreSQL server at {t.server} is out of disk space or memory: ask its "
            "administrator."
        )
    if isinstance(exc, pe.ReadOnlySqlTransaction):
        return SyncError(
            f"The PostgreSQL server at {t.server} is read-only (a standby?): use the primary "
            "server's address in the remote URL."
        )
    return SyncError(f"The PostgreSQL remote {t.url} could not be used ({t.scrub(reason(exc))}).")


def refused(exc: BaseException, t: Target) -> SyncError | None:
    """The department store's refusal of a push as one line (None: not one). ``may_push``
    marks its refusals (DETAIL) and says the fix (HINT); a row-level security policy's own
    refusal ("new row violates row-level security policy") names the table."""
    diag = getattr(exc, "diag", None)
    message = str(getattr(diag, "message_primary", "") or "")
    detail = str(getattr(diag, "message_detail", "") or "")
    hint = str(getattr(diag, "message_hint", "") or "")
    ours = "fieldlog.may_push" in detail
    if not ours and "row-level security" not in message and "may only move forward" not in message:
        return None
    fix = hint or f"ask the store's owner to check {t.user}'s enrollment (fieldlog dept enroll)"
    return SyncError(
        f"The department store refused this push: {t.scrub(message)}; nothing was applied, "
        f"here or in the store ({t.scrub(fix)})."
    )


def login_url(owner_url: str, login: str, password: str | None) -> str:
    """The URL a department login syncs with: the owner's server, port, database and options
    (sslmode), with this login and its password (URL-quoted) instead of the owner's."""
    from psycopg.conninfo import conninfo_to_dict

    params = {k: str(v) for k, v in conninfo_to_dict(owner_url).items() if v is not None}
    host = params.pop("host", "localhost")
    port = params.pop("port", "5432")
    dbname = params.pop("dbname", "")
    for key in ("user", "password", "passfile"):
        params.pop(key, None)
    who = quote(login, safe="") + (f":{quote(password, safe='')}" if password else "")
    where = host if not host.startswith("/") else ""
    if where == "":
        params["host"] = host
    elif ":" in host:
        where = f"[{host}]"
    out = f"postgresql://{who}@{where}:{port}/{quote(dbname, safe='')}"
    return out + (f"?{urlencode(params)}" if params else "")


def url_password(url: str) -> str:
    m = re.search(r"://[^:/@]+:([^@/]*)@", url)
    return m.group(1) if m else ""

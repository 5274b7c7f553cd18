"""Shell completion: what a Tab offers for ids, vocabularies, tables and remotes.

``fieldlog --install-completion`` installs Typer's script for bash, zsh, fish or PowerShell;
at each Tab the shell runs fieldlog with ``_FIELDLOG_COMPLETE`` set, and the option or
argument's completer (``autocompletion=``) answers with :func:`candidates`. Each answer is
``(value, help)``: zsh, fish and PowerShell show the help beside the value (a record's id with
its summary), bash shows the values.

A Tab must be instant and harmless, so the completers here never open the log through the
store (which migrates, asks for a passphrase, or creates a missing file): a plain log that
exists is read with SQLite in read-only mode, an encrypted or missing one offers its
vocabularies only, and any error at all answers nothing rather than a traceback in the middle
of a command line. This module imports only the standard library at module level; it is
reached lazily from each completer (:func:`completer`).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

Item = tuple[str, str]
MAX_ITEMS = 50  # a Tab offers the newest this many ids (type more characters for others)
HELP_WIDTH = 60

# The vocabularies (fieldlog.models), by the name a completer is asked for.
_VOCABULARIES = {
    "kind": "CONTACT_KINDS",
    "category": "CONCERN_CATEGORIES",
    "priority": "PRIORITIES",
    "concern_status": "CONCERN_STATUSES",
    "referral_status": "REFERRAL_STATUSES",
    "service": "REFERRAL_SERVICES",
    "org_kind": "ORG_KINDS",
    "org_status": "ORG_STATUSES",
    "phase": "PROBLEM_PHASES",
}
# Record ids: the table, and the column its help shows.
_IDS = {
    "contact_id": ("contacts", "summary"),
    "concern_id": ("concerns", "category || ': ' || description"),
    "referral_id": ("referrals", "agency || coalesce(': ' || reason, '')"),
    "org_id": ("organizations", "name"),
    "problem_id": ("problems", "phase || ': ' || title"),
}
# Earlier values people typed (most used first).
_VALUES = {
    "hood": "SELECT neighborhood, count(*) AS n FROM contacts WHERE deleted = 0 "
    "AND neighborhood IS NOT NULL GROUP BY neighborhood COLLATE NOCASE ORDER BY n DESC",
    "tag": "SELECT j.value, count(*) AS n FROM contacts c, json_each(c.tags) j "
    "WHERE c.deleted = 0 GROUP BY j.value ORDER BY n DESC",
    "org": "SELECT name, 0 FROM organizations WHERE deleted = 0 ORDER BY name COLLATE NOCASE",
    "officer": "SELECT officer, count(*) AS n FROM contacts WHERE deleted = 0 "
    "GROUP BY officer ORDER BY n DESC",
}
KINDS = (*_VOCABULARIES, *_IDS, *_VALUES, "table", "remote")


def completer(kind: str) -> Callable[..., list[Item]]:
    """A function for Typer's ``autocompletion=`` that offers ``kind`` (one of
    :data:`KINDS`): ``typer.Option("--kind", autocompletion=completer("kind"))``."""
    if kind not in KINDS:
        raise ValueError(f"no completer for {kind!r}")

    def complete(ctx: Any, incomplete: str) -> list[Item]:
        return candidates(kind, ctx, incomplete)

    complete.__name__ = f"complete_{kind}"
    return complete


def candidates(kind: str, ctx: Any, incomplete: str) -> list[Item]:
    """What a Tab offers for ``kind`` after ``incomplete`` was typed; never raises."""
    try:
        return list(_candidates(kind, ctx, incomplete or ""))[:MAX_ITEMS]
    except Exception:  # a Tab must never print a traceback into the command line
        return []


def _candidates(kind: str, ctx: Any, incomplete: str) -> Iterator[Item]:
    if kind in _VOCABULARIES:
        from fieldlog import models

        words = getattr(models, _VOCABULARIES[kind])
        low = incomplete.lower()
        yield from ((w, "") for w in words if w.startswith(low))
    elif kind == "table":
        from fieldlog import records

        # fieldlog export's choices: every record table, the flat view, all of them.
        for name, help_text in (
            *((t, f"the {records.NOUN[t]}s") for t in records.TABLES),
            ("flat", "one row per concern and referral, with its contact"),
            ("all", "every table, one file each"),
        ):
            if name.startswith(incomplete.lower()):
                yield name, help_text
    elif kind in _IDS:
        yield from _ids(kind, ctx, incomplete)
    elif kind in _VALUES:
        with _log(ctx) as conn:
            if conn is not None:
                for value, _n in conn.execute(_VALUES[kind]):
                    if isinstance(value, str) and value.lower().startswith(incomplete.lower()):
                        yield _fit(value, incomplete), ""
    elif kind == "remote":
        with _log(ctx) as conn:
            if conn is not None:
                for key, url in conn.execute(
                    "SELECT key, value FROM meta WHERE key LIKE 'remote:%' ORDER BY key"
                ):
                    name = key.removeprefix("remote:")
                    if name.startswith(incomplete.lower()):
                        yield name, _help(_no_password(str(url or "")))


def _fit(value: str, incomplete: str) -> str:
    """``value`` spelled as typed so far: the shell keeps only values that start with what
    was typed, so ``east`` + Tab offers ``eastside`` for ``Eastside`` (the filters match any
    case)."""
    return incomplete + value[len(incomplete) :]


def _ids(kind: str, ctx: Any, incomplete: str) -> Iterator[Item]:
    """The newest live ids starting with what was typed (hex, any case), each as its short
    id (the shortest prefix no other record of the table shares, as ``list`` shows it) with
    its summary as help."""
    table, label = _IDS[kind]
    prefix = incomplete.strip().lower()
    if prefix and not re.fullmatch("[0-9a-f]+", prefix):
        return
    with _log(ctx) as conn:
        if conn is None:
            return
        rows = conn.execute(
            f"SELECT id, {label}, (SELECT max(id) FROM {table} WHERE id < t.id), "
            f"(SELECT min(id) FROM {table} WHERE id > t.id) FROM {table} t "
            f"WHERE deleted = 0 AND id >= ? AND id < ? ORDER BY id DESC LIMIT {MAX_ITEMS}",
            [prefix, prefix + "g"],
        ).fetchall()
        for rid, text, before, after in rows:
            short = _short(rid, [o for o in (before, after) if o])
            yield incomplete + short[len(incomplete) :], _help(str(text or ""))


def _short(rid: str, neighbours: list[str]) -> str:
    """The shortest prefix (``ids.SHORT_LEN``+ characters, as ``list`` shows ids) that
    neither neighbour in id order shares."""
    from fieldlog.ids import SHORT_LEN

    n = SHORT_LEN
    for other in neighbours:
        n = max(n, len(os.path.commonprefix([rid, other])) + 1)
    return rid[:n]


def _help(text: str) -> str:
    """One line of at most :data:`HELP_WIDTH` characters, safe for a terminal and for zsh's
    help parser (control characters escaped, Rich's ``[`` markup neutralised)."""
    from fieldlog.text import printable

    line = printable(" ".join(text.split()), newlines=False).replace("[", "(").replace("]", ")")
    return line if len(line) <= HELP_WIDTH else line[: HELP_WIDTH - 1] + "…"


def _no_password(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@/]*@", r"://\1:***@", url)


def _db_path(ctx: Any) -> Path:
    """The log the command line names: ``--db`` on the root (parsed, not run, while
    completing) or after the command (read from the words the shell passed: that option is
    not kept in the parsed context), else ``FIELDLOG_DB``, else the default."""
    from fieldlog.paths import resolve_db_path

    db = None
    node = ctx
    while node is not None and not db:
        db = (getattr(node, "params", None) or {}).get("db")
        node = getattr(node, "parent", None)
    return resolve_db_path(db or _db_in_words())


def _db_in_words() -> str | None:
    """``--db PATH`` (or ``--db=PATH``) in the command line being completed."""
    import shlex

    line = os.environ.get("COMP_WORDS") or os.environ.get("_TYPER_COMPLETE_ARGS") or ""
    try:
        words = shlex.split(line)
    except ValueError:  # an open quote: the word being typed
        words = line.split()
    found = None
    for word, after in zip(words, [*words[1:], None], strict=True):
        if word == "--db" and after and not after.startswith("-"):
            found = after
        elif word.startswith("--db="):
            found = word.removeprefix("--db=")
    return found or None


@contextmanager
def _log(ctx: Any) -> Iterator[sqlite3.Connection | None]:
    """A read-only connection to the log, or None when it is missing, not a plain SQLite
    file (an encrypted log: its passphrase is never asked for at a Tab) or unreadable.
    Read-only mode creates nothing: not the log, not a folder."""
    conn = _open(_db_path(ctx))
    if conn is None:
        yield None
        return
    with closing(conn):
        yield conn


def _open(path: Path) -> sqlite3.Connection | None:
    try:
        if not path.is_file():
            return None
        with path.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                return None
        uri = path.resolve().as_uri() + "?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=0.2)
    except (OSError, sqlite3.Error, ValueError):
        return None


# Which completer each parameter of the other command groups takes, by its name (and, for the
# words whose vocabulary depends on the record, by the group): declared once here rather than
# on every option, and attached only while the shell completes (:func:`attach`).
_BY_NAME = {
    "contact_id": "contact_id",
    "contact": "contact_id",
    "concern_id": "concern_id",
    "concern": "concern_id",
    "referral_id": "referral_id",
    "record_id": "referral_id",
    "org": "org",
    "agency": "org",
    "hood": "hood",
    "tag": "tag",
    "add_tag": "tag",
    "remove_tag": "tag",
    "officer": "officer",
    "category": "category",
    "priority": "priority",
    "service": "service",
    "services": "service",
    "table": "table",
    "remote": "remote",
    "problem": "problem_id",
    "phase": "phase",
    "coordinator": "officer",
}
_BY_GROUP = {
    ("concern", "status"): "concern_status",
    ("referral", "status"): "referral_status",
    ("org", "status"): "org_status",
    ("org", "kind"): "org_kind",
    ("", "kind"): "kind",
    ("remote", "name"): "remote",
}
_NOT = {("history", "kind"), ("remote add", "name"), ("org add", "name"), ("org edit", "name")}


def attach(command: Any, path: str) -> Any:
    """``command`` (at ``path``, e.g. ``"concern update"``) with a completer on each parameter
    that names a record, a vocabulary word, a table or a remote and has none yet."""
    group = path.split(" ")[0] if " " in path else ""
    for param in getattr(command, "params", ()):
        name = param.name or ""
        if getattr(param, "_custom_shell_complete", None) is not None or (path, name) in _NOT:
            continue
        kind = _BY_GROUP.get((group, name)) or _BY_NAME.get(name)
        if kind is None and name == "kind" and path != "history":
            kind = "kind"
        if kind is None:
            continue
        complete = completer(kind)

        def shell(ctx: Any, _param: Any, incomplete: str, _complete: Any = complete) -> list[Any]:
            from typer._click.shell_completion import CompletionItem

            out = []
            for value, help_text in _complete(ctx, incomplete):
                if value.startswith(incomplete):
                    out.append(CompletionItem(value, help=help_text or None))
            return out

        param._custom_shell_complete = shell
    return command

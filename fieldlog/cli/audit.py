"""`fieldlog verify`, `fieldlog history` and `fieldlog purge`.

The checks and the purge live in fieldlog/db/audit/ and fieldlog/db/retention.py; this
module parses, asks, and prints plain lines (no Rich: nothing here needs it).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from fieldlog import records
from fieldlog.cli.common import JsonOpt, ask_remote_passphrase, emit_json, store_of
from fieldlog.cli.group import _typer
from fieldlog.errors import AmbiguousIdError, NotFoundError, ValidationError
from fieldlog.text import plural, printable

app = _typer()


ExpectOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--expect",
        metavar="SEQ:HASH",
        help="An anchor kept outside the log (a head verify printed, written down or held by "
        "your supervisor): entry SEQ must still have HASH (16+ hex characters). Repeatable.",
    ),
]
RemoteOpt = Annotated[
    str | None,
    typer.Option(
        "--remote",
        metavar="REMOTE",
        help="Also check the chain against the audit heads this device pushed to a store (a "
        "saved remote's name, a path or a postgresql:// URL).",
    ),
]


@app.command()
def verify(
    ctx: typer.Context,
    expect: ExpectOpt = None,
    remote: RemoteOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the log: SQLite's integrity, the audit chain, every record against its audit,
    the outbox, meta and the search index; and the chain against anchors kept elsewhere."""
    from fieldlog.db import audit
    from fieldlog.db.audit import witness

    anchors = []
    for text in expect or []:
        try:
            anchors.append(witness.parse_expect(text))
        except ValueError as exc:
            raise ValidationError("expect", str(exc)) from None
    store = store_of(ctx)
    heads, where = _remote_heads(ctx, store, remote) if remote is not None else ([], "")
    rep = audit.verify(store.conn, expect=anchors, heads=heads)
    if as_json:
        emit_json({"log": str(store.path), **rep.as_dict(), **({"remote": where} if where else {})})
    elif rep.ok:
        keyed = ", keyed" if rep.keyed_from else ""
        typer.echo(
            f"OK: {store.path} is sound: SQLite integrity ok, {plural(rep.entries, 'audit entry')} "
            f"chained{keyed} (head {rep.seq}:{rep.head[: witness.MIN_PREFIX]}), "
            f"{plural(rep.records, 'record')} "
            + ("matches its" if rep.records == 1 else "match their")
            + " last entry"
            + (f", {rep.purged} purged" if rep.purged else "")
            + (f"; {plural(rep.anchors, 'anchor')} held" if rep.anchors else "")
            + "."
        )
    else:
        for problem in rep.problems:
            typer.echo(printable(f"- {problem}"))
        for finding in rep.findings:
            typer.echo(printable(f"- {finding['message']}"))
        if rep.problems:
            typer.echo(
                f"{store.path}: {plural(len(rep.problems), 'problem')} found ("
                f"{plural(rep.entries, 'audit entry')}, {plural(rep.records, 'record')} "
                "checked). The log was changed outside "
                "fieldlog or damaged: keep this copy for your supervisor and restore from a "
                "backup or a sync remote."
            )
        if rep.findings:
            typer.echo(
                f"{store.path}: {plural(len(rep.findings), 'link')} to fix, stored by an "
                "earlier fieldlog (the audit chain is not at fault): run the command given "
                "with each."
            )
    if not as_json:
        for note in rep.notes:
            typer.echo(printable(f"(note: {note})"), err=True)
    if not rep.ok:
        raise typer.Exit(1)


def _remote_heads(ctx: typer.Context, store: Any, name: str) -> tuple[list[Any], str]:
    """The audit heads this device pushed to the store ``name`` names (a saved remote, a
    path or a URL), those its device did not sign left out; and the store, for messages."""
    from fieldlog.db.remotes.factory import open_remote
    from fieldlog.db.remotes.types import SyncError, safe_url
    from fieldlog.sync import choose

    targets = choose(store.sync.remotes(), name, default=None, default_from="")
    label, url = targets[0]
    ask_remote_passphrase(targets)  # an encrypted store file: asked on a terminal
    origin = store.meta().get("device_id") or ""
    remote = open_remote(url, create=False)  # verify never makes a store
    try:
        if not hasattr(remote, "heads"):
            raise SyncError(
                f"The store {safe_url(label)} does not keep audit heads: upgrade fieldlog on "
                "every laptop that syncs with it, sync, then verify again."
            )
        heads = list(remote.heads(origin)) if origin else []
        try:
            from fieldlog.db.devices import Trust

            trust = Trust(store, remote, remote.store_id)
            heads = [h for h in heads if trust.head_ok(h)]
        except ImportError:
            pass
    finally:
        remote.close()
    return heads, safe_url(label)


NOUN_CMD = "fieldlog list (contacts), concern list, referral list or org list"
TYPES = {
    "contact": "contacts",
    "concern": "concerns",
    "referral": "referrals",
    "org": "organizations",
    "organization": "organizations",
    "partner": "organizations",
}
# Which record a short id means when it fits one of each of several types: the records that
# belong to no other (a contact, then a partner, as the registry lists them), then the others.
PRIORITY = (
    *(t for t in records.TABLES if records.get(t).parent is None),
    *records.child_tables(),
)


@app.command()
def history(
    ctx: typer.Context,
    record_id: Annotated[
        str, typer.Argument(metavar="ID", help="Any record's id or a prefix (6+ characters).")
    ],
    kind: Annotated[
        str | None,
        typer.Option(
            "--type",
            metavar="TYPE",
            help="contact, concern, referral or org, when a short id fits several types.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """A record's audit trail: who changed what, when, on which device (any record type,
    deleted and purged ones too)."""
    from fieldlog import ids
    from fieldlog.db import audit

    store = store_of(ctx)
    prefix = ids.normalize_prefix(record_id)
    if len(prefix) < ids.MIN_PREFIX:
        raise ValidationError(
            "id",
            f"The id '{record_id}' is too short: give at least {ids.MIN_PREFIX} characters.",
        )
    hits = audit.find_record(store.conn, prefix) if ids.is_hex(prefix) else []
    if kind is not None:
        table = TYPES.get(kind.strip().lower().rstrip("s"))
        if table is None:
            raise ValidationError(
                "type", f"Unknown type '{kind}': use one of contact, concern, referral, org."
            )
        hits = [h for h in hits if h[0] == table]
    others: list[tuple[str, str]] = []
    tables = [t for t, _ in hits]
    if len(hits) > 1 and len(set(tables)) == len(tables):
        # One record of each of several types (ids made in the same instant share a prefix):
        # the short id a command printed is the contact's, the partner's, then the others'.
        best = min(hits, key=lambda h: PRIORITY.index(h[0]))
        others = [h for h in hits if h != best]
        hits = [best]
    if not hits:
        raise NotFoundError(
            f"No record has an id starting with '{record_id}': check the id ({NOUN_CMD} show them)."
        )
    if len(hits) > 1:
        shown = ", ".join(f"{audit.NOUN[t]} {rid[:12]}" for t, rid in hits[:10])
        more = " and more" if len(hits) > 10 else ""
        raise AmbiguousIdError(
            f"The id '{record_id}' matches {len(hits)}{'+' if more else ''} records "
            f"({shown}{more}): type more characters.",
            [rid for _, rid in hits],
        )
    table, rid = hits[0]
    if others:
        also = ", ".join(f"{audit.NOUN[t]} {r[:12]}" for t, r in others)
        typer.echo(
            f"(showing the {audit.NOUN[table]}; '{record_id}' also fits the {also}: "
            "use --type to choose)",
            err=True,
        )
    trail = audit.history(store.conn, table, rid)
    if as_json:
        emit_json(trail)
        return
    print_history(trail)


CURRENT = {
    "matches": "the record matches its last entry.",
    "changed": "the record as stored does NOT match its last entry: it was changed outside "
    "fieldlog (see fieldlog verify).",
    "missing": "the record is missing from the log: it was deleted outside fieldlog "
    "(see fieldlog verify).",
    "purged": "the record was purged.",
}
LABEL = {
    "genesis": "in the log when the audit began",
    "bootstrap": "loaded from the store's snapshot by this laptop's first sync",
    "upgrade": "given its review status by the upgrade",
    "insert": "added",
    "update": "changed",
    "delete": "deleted",
    "purge": "purged",
}


def _show(value: Any, width: int = 70) -> str:
    if value is None:
        return "(empty)"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if text.startswith("[") and text.endswith("]"):  # a stored list (tags, services)
        try:
            items = json.loads(text)
            if isinstance(items, list):
                text = ", ".join(str(i) for i in items) or "(none)"
        except ValueError:
            pass
    text = text.replace("\n", " ⏎ ")
    return text if len(text) <= width else text[: width - 1] + "…"


def print_history(trail: dict[str, Any]) -> None:
    from fieldlog import dates
    from fieldlog.db import audit

    entries = trail["entries"]
    noun = audit.NOUN[trail["table"]]
    n = len(entries)
    status = CURRENT[trail["current"]] if entries else "it was added outside fieldlog."
    typer.echo(f"{noun} {trail['id']}: {plural(n, 'audit entry')}; {status}")
    for e in entries:
        try:
            when = dates.show_local(e["at"], seconds=True)
        except ValueError:
            when = e["at"]
        label = LABEL.get(e["action"], e["action"])
        typer.echo(
            printable(f"#{e['seq']}  {when}  {label}  by {e['officer']} on device {e['device']}")
        )
        if e.get("source"):  # not typed here: a partner's returned sheet
            typer.echo(printable(f"      from {_show(e['source'])}"))
        if e.get("erased"):
            typer.echo("      (content erased by the retention purge)")
            continue
        if e.get("unreadable"):
            typer.echo("      (content unreadable: changed outside fieldlog, see fieldlog verify)")
            continue
        changes = e["changes"] or {}
        if e["action"] == "purge":
            if changes.get("older_than"):
                typer.echo(f"      retention: older than {changes['older_than']}")
            continue
        if e["action"] == "delete":
            continue
        before = e.get("before")
        for k, v in changes.items():
            if before is not None:
                typer.echo(printable(f"      {k}: {_show(before.get(k), 32)} → {_show(v, 32)}"))
            else:
                typer.echo(printable(f"      {k}: {_show(v)}"))


def _interactive() -> bool:
    return sys.stdin.isatty()


@app.command()
def purge(
    ctx: typer.Context,
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            metavar="AGE",
            help="The retention period: 2y, 18mo, 26w, 730d, or a date (2023-01-01).",
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be purged; change nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Apply the retention rule: delete contacts older than AGE (with their concerns and
    referrals), then remove for good the old tombstones every sync remote has."""
    from fieldlog.db import retention

    store = store_of(ctx)
    preview = retention.purge(store, older_than, dry_run=True)
    if dry_run or preview.nothing:
        _print_purge(preview, as_json)
        return
    if not yes:
        if not _interactive():
            raise ValidationError(
                "yes",
                "fieldlog purge deletes records for good: add --yes to run it from a script "
                "(or --dry-run to see what it would do).",
            )
        t, r = preview.tombstoned, preview.removed
        typer.confirm(
            f"Delete {plural(t['contacts'], 'contact')} from before {preview.cutoff} (with "
            f"{plural(t['concerns'], 'concern')} and {plural(t['referrals'], 'referral')}) and "
            f"remove {plural(sum(r.values()), 'deleted record')} for good? This cannot be undone.",
            abort=True,
            err=True,
        )
    _print_purge(retention.purge(store, older_than), as_json)


def _counts(c: dict[str, int]) -> str:
    """ "2 contacts, 1 concern, 0 referrals", then each other table's count that is not 0
    (partners, problems, their links and log entries), from the registry."""
    from fieldlog import records

    words = {"organizations": "partner"}
    head = [plural(c.get(t, 0), records.NOUN[t]) for t in ("contacts", "concerns", "referrals")]
    rest = [
        plural(c[t], words.get(t, records.NOUN[t]))
        for t in records.TABLES
        if t not in ("contacts", "concerns", "referrals") and c.get(t)
    ]
    return ", ".join(head + rest)


def _print_purge(result: Any, as_json: bool) -> None:
    if as_json:
        emit_json(result.as_dict())
        return
    head = "dry run:" if result.dry_run else "Purged"
    if result.nothing:
        typer.echo(
            "Nothing to purge yet."
            if result.held_back
            else f"Nothing to purge: no records from before {result.cutoff}."
        )
    else:
        verb = "would delete" if result.dry_run else "deleted"
        gone = "would remove" if result.dry_run else "removed"
        typer.echo(
            f"{head} records from before {result.cutoff}: {verb} "
            f"{_counts(result.tombstoned)}; {gone} for good {_counts(result.removed)}."
        )
    if result.held_back:
        typer.echo(
            f"Kept as tombstones until every sync remote has them: "
            f"{plural(result.held_back, 'deleted record')}. Run fieldlog sync, then fieldlog purge "
            "again."
        )

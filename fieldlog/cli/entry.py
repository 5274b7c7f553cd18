"""The everyday commands: ``init``, ``demo``, ``add``, ``list``, ``show``, ``edit``,
``delete``, ``search``, ``followups`` and ``tui``.

``fieldlog add`` runs with only this module (the quick path: :mod:`fieldlog.cli.quick`), so
it declares its commands without importing Typer (:mod:`fieldlog.cli.params`) and its
top-level imports stay at :mod:`fieldlog.cli.common`: Typer (for a prompt), Rich
(render.py), the models and the store are imported inside the commands that use them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fieldlog.cli.common import (
    JsonOpt,
    check_can_encrypt,
    echo,
    emit_json,
    limit_option,
    page_option,
    page_size,
    progress,
    run_tui,
    state_of,
    store_of,
)
from fieldlog.cli.params import Argument, Commands, Option
from fieldlog.errors import FieldlogError

if TYPE_CHECKING:
    import typer

app = Commands()


def _complete(kind: str) -> Callable[..., list[tuple[str, str]]] | None:
    """A shell completer (``autocompletion=``) offering ``kind``: ids with their summary,
    vocabularies, earlier neighborhoods and tags (:mod:`fieldlog.cli.complete`, imported at
    a Tab). Only when the shell asks (Click's protocol sets ``_FIELDLOG_COMPLETE``): Typer
    inspects every completer as it builds a command, which ``fieldlog add`` need not pay."""
    if not os.environ.get("_FIELDLOG_COMPLETE"):
        return None

    import typer

    def complete(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
        from fieldlog.cli.complete import candidates

        return candidates(kind, ctx, incomplete)

    # Typer finds the context by its type: the hints as objects (``typer`` is not a global).
    complete.__annotations__ = {"ctx": typer.Context, "incomplete": str}
    return complete


LIST_PAGE = 50  # contacts a list shows on screen
SEARCH_PAGE = 20  # search hits shown on screen
ContactId = Annotated[
    str,
    Argument(
        metavar="ID", help="Contact id (6+ characters).", autocompletion=_complete("contact_id")
    ),
]
# ``tui`` comes after ``refer`` in ``fieldlog --help`` (as it always has): the root adds this
# one-command group after the referrals module's.
tui_app = Commands()


# ---------------------------------------------------------------------- init / demo
@app.command()
def init(
    ctx: typer.Context,
    officer: Annotated[
        str | None,
        Option(
            "--officer",
            help="Your name, as it goes on records (default: the officer in fieldlog config).",
        ),
    ] = None,
    badge: Annotated[str | None, Option("--badge", help="Your badge number.")] = None,
    hood: Annotated[
        str | None, Option("--hood", help="Your usual neighborhood (default for add).")
    ] = None,
    encrypt: Annotated[
        bool,
        Option(
            "--encrypt",
            help="Create the log encrypted (passphrase from $FIELDLOG_PASSPHRASE, else asked).",
        ),
    ] = False,
) -> None:
    """Record who is logging on this laptop (and create the log if needed)."""
    if encrypt:
        check_can_encrypt(ctx)
    store = state_of(ctx).store(encrypt=encrypt)
    store.set_officer(officer, badge, hood)
    extra = f" (badge {badge})" if badge else ""
    locked = " (encrypted)" if store.encrypted else ""
    echo(f"Logging as {store.officer()}{extra} in {store.path}{locked}")


@app.command()
def demo(
    ctx: typer.Context,
    contacts: Annotated[
        int, Option("--contacts", min=1, max=5_000_000, help="How many contacts to make.")
    ] = 500,
    if_empty: Annotated[
        bool, Option("--if-empty", help="Do nothing if the log already holds contacts.")
    ] = False,
    yes: Annotated[
        bool, Option("--yes", "-y", help="Add demo data to a log that has records.")
    ] = False,
    seed: Annotated[int, Option("--seed", help="Random seed (same seed, same data).")] = 7,
    as_json: JsonOpt = False,
) -> None:
    """Fill a log with realistic practice data (contacts, concerns, referrals, partners)."""
    from fieldlog import demo as demo_mod
    from fieldlog.text import plural

    store = store_of(ctx)
    existing = store.contacts.count()
    if existing and if_empty:
        if as_json:
            emit_json({"contacts": 0, "skipped": True})
        return
    if existing and not yes:
        import typer

        typer.confirm(
            f"The log {store.path} already holds {plural(existing, 'contact')}. "
            "Add demo data to it?",
            abort=True,
            err=True,
        )
    with progress(quiet=as_json) as bars:
        counts = demo_mod.fill(
            store, contacts, seed=seed, progress=bars.task("Making demo data", total=contacts)
        )
    if as_json:
        emit_json(counts)
    else:
        echo(
            f"Added {plural(counts['contacts'], 'contact')}, "
            f"{plural(counts['concerns'], 'concern')}, "
            f"{plural(counts['referrals'], 'referral')} and "
            f"{plural(counts['organizations'], 'partner')} to {store.path}."
        )


# ---------------------------------------------------------------------- contacts
@app.command()
def add(
    ctx: typer.Context,
    summary: Annotated[
        str,
        Argument(
            help="What happened, in a sentence ('-' reads it from stdin: the first line, "
            "and any lines after it become the notes)."
        ),
    ],
    name: Annotated[str | None, Option("--name", help="The person met.")] = None,
    kind: Annotated[
        str | None,
        Option(
            "--kind",
            help="resident, business, organization, event, meeting, phone, other "
            "(default resident).",
            autocompletion=_complete("kind"),
        ),
    ] = None,
    org: Annotated[
        str | None,
        Option("--org", help="Partner organization: name or id.", autocompletion=_complete("org")),
    ] = None,
    hood: Annotated[
        str | None,
        Option("--hood", help="Neighborhood.", autocompletion=_complete("hood")),
    ] = None,
    beat: Annotated[str | None, Option("--beat", help="Beat.")] = None,
    location: Annotated[str | None, Option("--location", help="Place.")] = None,
    at: Annotated[
        str | None, Option("--at", help="When (default now): 'yesterday 14:30', '2h ago'.")
    ] = None,
    tag: Annotated[
        list[str] | None,
        Option("--tag", help="A tag (repeatable).", autocompletion=_complete("tag")),
    ] = None,
    concern: Annotated[
        list[str] | None,
        Option("--concern", metavar="CATEGORY:TEXT", help="A concern raised (repeatable)."),
    ] = None,
    refer: Annotated[
        list[str] | None,
        Option("--refer", metavar="AGENCY:REASON", help="A referral made (repeatable)."),
    ] = None,
    follow_up: Annotated[
        str | None, Option("--follow-up", help="Follow up by (e.g. 'friday', '3d').")
    ] = None,
    notes: Annotated[
        str | None, Option("--notes", help="Longer notes ('-' reads them from stdin).")
    ] = None,
    new_agency: Annotated[
        bool,
        Option(
            "--new-agency",
            help="A --refer agency close to a partner's name is a new agency, not that partner.",
        ),
    ] = False,
    problem: Annotated[
        list[str] | None,
        Option(
            "--problem",
            metavar="PROBLEM",
            help="Link the contact to a problem: its id or title (repeatable).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Log a contact in one line, with its concerns and referrals; prints its short id."""
    from fieldlog import models

    if "-" in (summary, notes):
        from fieldlog.cli.editor import from_stdin

        summary, notes = from_stdin(summary, notes)
    values: dict[str, Any] = {"summary": summary}
    for key, value in (
        ("person_name", name),
        ("kind", kind),
        ("organization", org),
        ("neighborhood", hood),
        ("beat", beat),
        ("location", location),
        ("occurred_at", at),
        ("notes", notes),
        ("follow_up_on", follow_up),
    ):
        if value is not None:
            values[key] = value
    from fieldlog.entry import typed_times

    warnings = typed_times(values)  # --at and --follow-up checked for sense
    if tag:
        values["tags"] = tag
    concerns = []
    for c in concern or []:
        category, text = models.split_pair("concern", c, "a category before the colon")
        concerns.append({"category": category, "description": text})
    referrals = []
    for r in refer or []:
        agency, reason = models.split_pair("refer", r, "an agency before the colon")
        referrals.append({"agency": agency, "reason": reason or None})
    store = store_of(ctx)
    if referrals:
        from fieldlog.cli.suggest import agency_to_use

        for ref in referrals:
            ref["agency"] = agency_to_use(store, str(ref["agency"]), new_agency=new_agency)
    cid = store.entries.save(values, concerns, referrals, problems=problem or ())
    for warning in warnings:
        echo(f"Warning: {warning}", err=True)
    short = store.records.short_id("contacts", cid)
    if as_json:
        emit_json({"id": cid, "short_id": short})
    else:
        echo(short)


@app.command("list")
def list_(
    ctx: typer.Context,
    since: Annotated[str | None, Option("--since", help="From WHEN (e.g. 7d).")] = None,
    until: Annotated[str | None, Option("--until", help="Up to WHEN.")] = None,
    hood: Annotated[
        str | None,
        Option("--hood", help="Neighborhood (any case).", autocompletion=_complete("hood")),
    ] = None,
    officer: Annotated[
        str | None,
        Option("--officer", help="Officer (any case).", autocompletion=_complete("officer")),
    ] = None,
    tag: Annotated[
        str | None, Option("--tag", help="Tag.", autocompletion=_complete("tag"))
    ] = None,
    kind: Annotated[
        str | None,
        Option("--kind", help="Contact kind.", autocompletion=_complete("kind")),
    ] = None,
    limit: Annotated[int | None, page_option(LIST_PAGE)] = None,
    as_json: JsonOpt = False,
) -> None:
    """List contacts, newest first."""
    contacts = store_of(ctx).contacts
    filters: dict[str, Any] = {
        "since": since, "until": until, "hood": hood, "officer": officer, "tag": tag,
        "kind": kind,
    }  # fmt: skip
    page = page_size(limit, as_json, LIST_PAGE)
    rows = contacts.list(limit=page, **filters)
    if as_json:
        emit_json(rows)
        return
    from fieldlog import render

    total = contacts.count(**filters) if page and len(rows) == page else None

    render.table(
        rows,
        [
            ("short_id", "ID"),
            ("occurred_at", "When"),
            ("kind", "Kind"),
            ("neighborhood", "Hood"),
            ("person_name", "Person"),
            ("summary", "Summary"),
            ("concern_count", "Con"),
            ("referral_count", "Ref"),
        ],
        empty="No contacts match.",
        narrow=("kind", "concern_count", "referral_count"),
        total=total,
    )


@app.command()
def show(
    ctx: typer.Context,
    contact_id: ContactId,
    as_json: JsonOpt = False,
) -> None:
    """Show a contact with its concerns and referrals."""
    c = store_of(ctx).contacts.get(contact_id)
    if as_json:
        emit_json(c)
        return
    from fieldlog import render

    render.contact(c)


@app.command()
def edit(
    ctx: typer.Context,
    contact_id: ContactId,
    summary: Annotated[str | None, Option("--summary")] = None,
    name: Annotated[str | None, Option("--name", help="Person ('' clears).")] = None,
    kind: Annotated[str | None, Option("--kind", autocompletion=_complete("kind"))] = None,
    org: Annotated[
        str | None,
        Option("--org", help="Partner name or id ('' clears).", autocompletion=_complete("org")),
    ] = None,
    hood: Annotated[str | None, Option("--hood", autocompletion=_complete("hood"))] = None,
    beat: Annotated[str | None, Option("--beat")] = None,
    location: Annotated[str | None, Option("--location")] = None,
    at: Annotated[str | None, Option("--at", help="When it happened.")] = None,
    notes: Annotated[str | None, Option("--notes")] = None,
    tag: Annotated[
        list[str] | None,
        Option("--tag", help="Replace the tags (repeatable).", autocompletion=_complete("tag")),
    ] = None,
    add_tag: Annotated[
        list[str] | None,
        Option("--add-tag", help="Add a tag.", autocompletion=_complete("tag")),
    ] = None,
    remove_tag: Annotated[
        list[str] | None,
        Option("--remove-tag", help="Remove a tag.", autocompletion=_complete("tag")),
    ] = None,
    follow_up: Annotated[
        str | None, Option("--follow-up", help="Follow-up date ('none' clears).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change fields of a contact; fields not given stay as they are. With no options, the
    contact opens in your editor ($VISUAL, else $EDITOR) as 'label: value' lines."""
    from fieldlog import models

    store = store_of(ctx)
    values: dict[str, Any] = {}
    for key, value in (
        ("summary", summary),
        ("person_name", name),
        ("kind", kind),
        ("neighborhood", hood),
        ("beat", beat),
        ("location", location),
        ("occurred_at", at),
        ("notes", notes),
        ("follow_up_on", follow_up),
    ):
        if value is not None:
            values[key] = value
    from fieldlog.entry import typed_times

    warnings = typed_times(values)  # --at and --follow-up checked for sense
    if org is not None:
        if org.strip():
            values["organization"] = org
        else:
            values["organization_id"] = None
    if tag is not None or add_tag or remove_tag:
        current = store.contacts.get(contact_id)["tags"]
        tags = models.tag_list(tag) if tag is not None else list(current)
        tags += [t for t in models.tag_list(add_tag or []) if t not in tags]
        drop = set(models.tag_list(remove_tag or []))
        values["tags"] = [t for t in tags if t not in drop]
    if not values:
        from fieldlog.cli.editor import edit_in_editor, wanted

        if not wanted():
            raise FieldlogError(
                "Nothing to change: give at least one option (see fieldlog edit -h), or set "
                "EDITOR to edit the contact in your editor."
            )
        edited = edit_in_editor(store, contact_id)
        if edited is None:
            echo("No change.", err=as_json)
            if as_json:
                emit_json(store.contacts.get(contact_id))
            return
        c = edited
    else:
        c = store.contacts.update(contact_id, values)
        for warning in warnings:
            echo(f"Warning: {warning}", err=True)
    if as_json:
        emit_json(c)
    else:
        echo(f"Updated contact {c['short_id']}.")


@app.command()
def delete(
    ctx: typer.Context,
    contact_id: ContactId,
    yes: Annotated[bool, Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Delete a contact with its concerns and referrals (a tombstone that syncs)."""
    from fieldlog.text import plural, printable

    store = store_of(ctx)
    c = store.contacts.get(contact_id)
    if not yes:
        summary = printable(c["summary"][:60], newlines=False)
        import typer

        typer.confirm(
            f'Delete contact {c["short_id"]} "{summary}" with '
            f"{plural(len(c['concerns']), 'concern')} and "
            f"{plural(len(c['referrals']), 'referral')}? (fieldlog undo brings it back)",
            abort=True,
            err=True,
        )
    store.contacts.delete(c["id"])
    echo(f"Deleted contact {c['short_id']}.")


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, Argument(help="Words to find (all must match).")],
    limit: Annotated[int | None, page_option(SEARCH_PAGE)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Full-text search over contacts, concerns, referrals and partners, best first."""
    store = store_of(ctx)
    page = page_size(limit, as_json, SEARCH_PAGE)
    rows = store.search.hits(query, limit=page or ALL)
    if as_json:
        emit_json(rows)
        return
    from fieldlog import render

    render.search_results(rows)
    if page and len(rows) == page:
        render.more(len(rows), _hit_count(store, query))


ALL = 2**62  # "no limit" for the store calls that take a number


def _hit_count(store: Any, query: str) -> int:
    """How many records ``search`` matches in all (one count per search index, no join)."""
    return int(store.search.count(query))


@app.command()
def followups(
    ctx: typer.Context,
    until: Annotated[
        str | None, Option("--until", help="Due by WHEN (default today), e.g. friday, 7d.")
    ] = None,
    limit: Annotated[int | None, limit_option("Show at most N, the oldest (default: all).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Referrals and contacts whose follow-up is due or overdue, oldest first; then your
    contacts a supervisor returned, with the comment."""
    store = store_of(ctx)
    due = store.followups
    rows = due.due(until=until, limit=limit)
    returned = store.contacts.returned()
    if as_json:
        from fieldlog import review

        emit_json(rows + [review.followup_row(r) for r in returned])
        return
    from fieldlog import render

    total = due.counts(until=until)["due"] if limit and len(rows) == limit else None

    for r in rows:
        r["due"] = r["follow_up_on"] + (" !" if r["overdue"] else "")
    render.table(
        rows,
        [
            ("due", "Due (! overdue)"),
            ("type", "Type"),
            ("short_id", "ID"),
            ("status", "Status"),
            ("subject", "About"),
            ("person_name", "Person"),
            ("neighborhood", "Hood"),
        ],
        empty="No follow-ups due.",
        narrow=("neighborhood", "status"),
        total=total,
    )
    render.returned(returned)


# ---------------------------------------------------------------------- the full screen
@tui_app.command()
def tui(ctx: typer.Context) -> None:
    """Open the full-screen interface (also what bare `fieldlog` does on a terminal)."""
    run_tui(state_of(ctx))

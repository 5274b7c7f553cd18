"""The everyday commands: ``init``, ``demo``, ``add``, ``list``, ``show``, ``edit``,
``delete``, ``search``, ``followups`` and ``tui``.

``fieldlog add`` runs with only this module (the quick path in :mod:`fieldlog.cli`), so its
top-level imports stay at Typer and :mod:`fieldlog.cli.common`: Rich (render.py), the models
and the store are imported inside the commands that use them.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fieldlog.cli.common import (
    JsonOpt,
    LimitOpt,
    _typer,
    check_can_encrypt,
    emit_json,
    progress,
    run_tui,
    state_of,
    store_of,
)
from fieldlog.errors import FieldlogError

app = _typer()
# ``tui`` comes after ``refer`` in ``fieldlog --help`` (as it always has): the root adds this
# one-command group after the referrals module's.
tui_app = _typer()


# ---------------------------------------------------------------------- init / demo
@app.command()
def init(
    ctx: typer.Context,
    officer: Annotated[str, typer.Option("--officer", help="Your name, as it goes on records.")],
    badge: Annotated[str | None, typer.Option("--badge", help="Your badge number.")] = None,
    hood: Annotated[
        str | None, typer.Option("--hood", help="Your usual neighborhood (default for add).")
    ] = None,
    encrypt: Annotated[
        bool,
        typer.Option(
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
    typer.echo(f"Logging as {officer}{extra} in {store.path}{locked}")


@app.command()
def demo(
    ctx: typer.Context,
    contacts: Annotated[
        int, typer.Option("--contacts", min=1, max=5_000_000, help="How many contacts to make.")
    ] = 500,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if the log already holds contacts.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Add demo data to a log that has records.")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 7,
    as_json: JsonOpt = False,
) -> None:
    """Fill a log with realistic practice data (contacts, concerns, referrals, partners)."""
    from fieldlog import demo as demo_mod

    store = store_of(ctx)
    existing = store.contacts.count()
    if existing and if_empty:
        if as_json:
            emit_json({"contacts": 0, "skipped": True})
        return
    if existing and not yes:
        typer.confirm(
            f"The log {store.path} already holds {existing} contacts. Add demo data to it?",
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
        typer.echo(
            f"Added {counts['contacts']} contacts, {counts['concerns']} concerns, "
            f"{counts['referrals']} referrals and {counts['organizations']} partners "
            f"to {store.path}."
        )


# ---------------------------------------------------------------------- contacts
@app.command()
def add(
    ctx: typer.Context,
    summary: Annotated[str, typer.Argument(help="What happened, in a sentence.")],
    name: Annotated[str | None, typer.Option("--name", help="The person met.")] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="resident, business, organization, event, meeting, phone, other "
            "(default resident).",
        ),
    ] = None,
    org: Annotated[
        str | None, typer.Option("--org", help="Partner organization: name or id.")
    ] = None,
    hood: Annotated[str | None, typer.Option("--hood", help="Neighborhood.")] = None,
    beat: Annotated[str | None, typer.Option("--beat", help="Beat.")] = None,
    location: Annotated[str | None, typer.Option("--location", help="Place.")] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="When (default now): 'yesterday 14:30', '2h ago'.")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag (repeatable).")] = None,
    concern: Annotated[
        list[str] | None,
        typer.Option("--concern", metavar="CATEGORY:TEXT", help="A concern raised (repeatable)."),
    ] = None,
    refer: Annotated[
        list[str] | None,
        typer.Option("--refer", metavar="AGENCY:REASON", help="A referral made (repeatable)."),
    ] = None,
    follow_up: Annotated[
        str | None, typer.Option("--follow-up", help="Follow up by (e.g. 'friday', '3d').")
    ] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Longer notes.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Log a contact in one line, with its concerns and referrals; prints its short id."""
    from fieldlog import models

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
    cid = store.contacts.add(values, concerns, referrals)
    short = store.records.short_id("contacts", cid)
    if as_json:
        emit_json({"id": cid, "short_id": short})
    else:
        typer.echo(short)


@app.command("list")
def list_(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--since", help="From WHEN (e.g. 7d).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Up to WHEN.")] = None,
    hood: Annotated[str | None, typer.Option("--hood", help="Neighborhood.")] = None,
    officer: Annotated[str | None, typer.Option("--officer", help="Officer.")] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Tag.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Contact kind.")] = None,
    limit: LimitOpt = 50,
    as_json: JsonOpt = False,
) -> None:
    """List contacts, newest first."""
    rows = store_of(ctx).contacts.list(
        since=since, until=until, hood=hood, officer=officer, tag=tag, kind=kind, limit=limit
    )
    if as_json:
        emit_json(rows)
        return
    from fieldlog import render

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
    )


@app.command()
def show(
    ctx: typer.Context,
    contact_id: Annotated[str, typer.Argument(metavar="ID", help="Contact id (6+ characters).")],
    as_json: JsonOpt = False,
) -> None:
    """Show a contact with its concerns and referrals."""
    c = store_of(ctx).contacts.get(contact_id)
    if as_json:
        emit_json(c)
        return
    from fieldlog import dates, render

    render.record(
        f"Contact {c['short_id']}",
        [
            ("When", dates.show_local(c["occurred_at"])),
            ("Kind", c["kind"]),
            ("Person", c["person_name"]),
            ("Organization", c["organization_name"]),
            ("Neighborhood", c["neighborhood"]),
            ("Beat", c["beat"]),
            ("Location", c["location"]),
            ("Summary", c["summary"]),
            ("Notes", c["notes"]),
            ("Tags", c["tags"]),
            ("Follow up", c["follow_up_on"]),
            ("Officer", c["officer"]),
            ("Id", c["id"]),
        ],
    )
    if c["concerns"]:
        render.table(
            c["concerns"],
            [
                ("short_id", "Concern"),
                ("category", "Category"),
                ("priority", "Priority"),
                ("status", "Status"),
                ("description", "Description"),
            ],
        )
    if c["referrals"]:
        render.table(
            c["referrals"],
            [
                ("short_id", "Referral"),
                ("agency", "Agency"),
                ("service", "Service"),
                ("status", "Status"),
                ("follow_up_on", "Follow up"),
                ("reason", "Reason"),
            ],
        )


@app.command()
def edit(
    ctx: typer.Context,
    contact_id: Annotated[str, typer.Argument(metavar="ID", help="Contact id (6+ characters).")],
    summary: Annotated[str | None, typer.Option("--summary")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Person ('' clears).")] = None,
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    org: Annotated[
        str | None, typer.Option("--org", help="Partner name or id ('' clears).")
    ] = None,
    hood: Annotated[str | None, typer.Option("--hood")] = None,
    beat: Annotated[str | None, typer.Option("--beat")] = None,
    location: Annotated[str | None, typer.Option("--location")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When it happened.")] = None,
    notes: Annotated[str | None, typer.Option("--notes")] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Replace the tags (repeatable).")
    ] = None,
    add_tag: Annotated[list[str] | None, typer.Option("--add-tag", help="Add a tag.")] = None,
    remove_tag: Annotated[
        list[str] | None, typer.Option("--remove-tag", help="Remove a tag.")
    ] = None,
    follow_up: Annotated[
        str | None, typer.Option("--follow-up", help="Follow-up date ('none' clears).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change fields of a contact; fields not given stay as they are."""
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
        raise FieldlogError("Nothing to change: give at least one option (see fieldlog edit -h).")
    c = store.contacts.update(contact_id, values)
    if as_json:
        emit_json(c)
    else:
        typer.echo(f"Updated contact {c['short_id']}.")


@app.command()
def delete(
    ctx: typer.Context,
    contact_id: Annotated[str, typer.Argument(metavar="ID", help="Contact id (6+ characters).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Delete a contact with its concerns and referrals (a tombstone that syncs)."""
    store = store_of(ctx)
    c = store.contacts.get(contact_id)
    if not yes:
        typer.confirm(
            f'Delete contact {c["short_id"]} "{c["summary"][:60]}" with '
            f"{len(c['concerns'])} concerns and {len(c['referrals'])} referrals?",
            abort=True,
            err=True,
        )
    store.contacts.delete(c["id"])
    typer.echo(f"Deleted contact {c['short_id']}.")


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Words to find (all must match).")],
    limit: LimitOpt = 20,
    as_json: JsonOpt = False,
) -> None:
    """Full-text search over contacts, concerns, referrals and partners, best first."""
    rows = store_of(ctx).search.hits(query, limit=limit)
    if as_json:
        emit_json(rows)
        return
    from fieldlog import render

    render.search_results(rows)


@app.command()
def followups(
    ctx: typer.Context,
    until: Annotated[
        str | None, typer.Option("--until", help="Due by WHEN (default today), e.g. friday, 7d.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Referrals and contacts whose follow-up is due or overdue, oldest first."""
    rows = store_of(ctx).followups.due(until=until)
    if as_json:
        emit_json(rows)
        return
    from fieldlog import render

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
    )


# ---------------------------------------------------------------------- the full screen
@tui_app.command()
def tui(ctx: typer.Context) -> None:
    """Open the full-screen interface (also what bare `fieldlog` does on a terminal)."""
    run_tui(state_of(ctx))

"""The command line: a thin Typer shell over :class:`fieldlog.db.store.Store`.

It parses, calls the store, and renders. Rich (render.py), sqlite-utils and Textual are
imported inside the commands that use them, so ``fieldlog add`` starts fast.
Every :class:`FieldlogError` ends here as one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from fieldlog.errors import FieldlogError

if TYPE_CHECKING:
    from fieldlog.db.store import Store


class FieldlogGroup(TyperGroup):
    """Turns every FieldlogError, in any subcommand, into one line and exit 1."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FieldlogError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except UnicodeEncodeError:  # argv bytes that are not UTF-8 (any write rolled back)
            typer.echo(
                "Error: Some text you gave is not UTF-8 (a terminal set to another encoding?): "
                "set the terminal to UTF-8 and type it again.",
                err=True,
            )
            raise typer.Exit(1) from None


def _typer(help_text: str) -> typer.Typer:
    return typer.Typer(
        cls=FieldlogGroup,
        help=help_text,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )


app = typer.Typer(
    cls=FieldlogGroup,
    help="A field log for community liaison officers: contacts, concerns, referrals, partners.",
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
concern_app = _typer("Concerns raised at a contact: add, list, update.")
referral_app = _typer("Referrals made to agencies and partners: list, update.")
org_app = _typer("The community partners directory.")
app.add_typer(concern_app, name="concern")
app.add_typer(referral_app, name="referral")
app.add_typer(org_app, name="org")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
LimitOpt = Annotated[int, typer.Option("--limit", "-n", help="Show at most N rows.", min=1)]


# ---------------------------------------------------------------------- plumbing
class _State:
    def __init__(self, db: str | None) -> None:
        self.db = db
        self._store: Store | None = None

    def store(self, *, encrypt: bool = False) -> Store:
        if self._store is None:
            from fieldlog.cli_crypto import ask_passphrase
            from fieldlog.db.store import Store
            from fieldlog.paths import resolve_db_path

            self._store = Store.open(resolve_db_path(self.db), ask=ask_passphrase, encrypt=encrypt)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def _store(ctx: typer.Context) -> Store:
    return ctx.find_root().obj.store()


def _version(value: bool) -> None:
    if value:
        from fieldlog import __version__

        typer.echo(f"fieldlog {__version__}")
        raise typer.Exit()


def emit_json(data: Any) -> None:
    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list):
            return [clean(x) for x in v]
        if isinstance(v, str) and "\x02" in v:
            return v.replace("\x02", "[").replace("\x03", "]")
        return v

    sys.stdout.write(json.dumps(clean(data), ensure_ascii=False, indent=2) + "\n")


@app.callback()
def main_callback(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="PATH",
            help="The log file to use (default: $FIELDLOG_DB, else your user data folder).",
        ),
    ] = None,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = None,
) -> None:
    """A field log for community liaison officers: contacts, concerns, referrals, partners.

    Run with no command to open the full-screen interface (in a script: an overview).
    """
    state = _State(db)
    ctx.obj = state
    ctx.call_on_close(state.close)
    if ctx.invoked_subcommand is None:
        if sys.stdin.isatty() and sys.stdout.isatty():
            _run_tui(state)
        else:  # a script or a pipe: no screen to draw on
            overview(state.store())


def overview(store: Store) -> None:
    """What bare ``fieldlog`` shows (the TUI's dashboard will take this place)."""
    from fieldlog import render

    n = store.count_contacts()
    render.console.print(f"Log: {store.path}  ·  officer: {store.officer()}")
    if n == 0:
        render.console.print(
            'Your log is empty. Log a contact with  fieldlog add "Met ..." --hood NAME  '
            "or fill a practice log with  fieldlog --db demo.db demo"
        )
        return
    figures = store.dashboard()
    due, overdue = figures["followups_due"], figures["followups_overdue"]
    render.console.print(
        f"{n} contacts · {due + overdue} follow-ups due today ({overdue} overdue). "
        "See  fieldlog list,  fieldlog followups,  fieldlog --help"
    )


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
        from fieldlog.cli_crypto import check_can_encrypt

        check_can_encrypt(ctx)
    store = ctx.find_root().obj.store(encrypt=encrypt)
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

    store = _store(ctx)
    existing = store.count_contacts()
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
    if sys.stderr.isatty() and not as_json:
        from rich.progress import Progress

        with Progress(transient=True, console=_err_console()) as progress:
            task = progress.add_task("Making demo data", total=contacts)
            counts = demo_mod.fill(
                store,
                contacts,
                seed=seed,
                progress=lambda n, total: progress.update(task, completed=n, total=total),
            )
    else:
        counts = demo_mod.fill(store, contacts, seed=seed)
    if as_json:
        emit_json(counts)
    else:
        typer.echo(
            f"Added {counts['contacts']} contacts, {counts['concerns']} concerns, "
            f"{counts['referrals']} referrals and {counts['organizations']} partners "
            f"to {store.path}."
        )


def _err_console():  # noqa: ANN202
    from fieldlog import render

    return render.err_console


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
    store = _store(ctx)
    cid = store.add_contact(values, concerns, referrals)
    short = store.short_id("contacts", cid)
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
    rows = _store(ctx).list_contacts(
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
    c = _store(ctx).get_contact(contact_id)
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

    store = _store(ctx)
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
        current = store.get_contact(contact_id)["tags"]
        tags = models.tag_list(tag) if tag is not None else list(current)
        tags += [t for t in models.tag_list(add_tag or []) if t not in tags]
        drop = set(models.tag_list(remove_tag or []))
        values["tags"] = [t for t in tags if t not in drop]
    if not values:
        raise FieldlogError("Nothing to change: give at least one option (see fieldlog edit -h).")
    c = store.update_contact(contact_id, values)
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
    store = _store(ctx)
    c = store.get_contact(contact_id)
    if not yes:
        typer.confirm(
            f'Delete contact {c["short_id"]} "{c["summary"][:60]}" with '
            f"{len(c['concerns'])} concerns and {len(c['referrals'])} referrals?",
            abort=True,
            err=True,
        )
    store.delete_contact(c["id"])
    typer.echo(f"Deleted contact {c['short_id']}.")


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Words to find (all must match).")],
    limit: LimitOpt = 20,
    as_json: JsonOpt = False,
) -> None:
    """Full-text search over contacts, concerns, referrals and partners, best first."""
    rows = _store(ctx).search(query, limit=limit)
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
    rows = _store(ctx).followups(until=until)
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


# ---------------------------------------------------------------------- concerns
@concern_app.command("add")
def concern_add(
    ctx: typer.Context,
    contact: Annotated[str, typer.Argument(help="Contact id.")],
    category: Annotated[str, typer.Argument(help="noise, traffic, youth, housing, ...")],
    text: Annotated[str, typer.Argument(help="The concern, in the resident's words.")],
    priority: Annotated[
        str | None, typer.Option("--priority", help="low, normal, high, urgent.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a concern to a contact."""
    store = _store(ctx)
    values = {"category": category, "description": text}
    if priority:
        values["priority"] = priority
    rid = store.add_concern(contact, **values)
    _print_new(store, "concerns", rid, as_json)


@concern_app.command("list")
def concern_list(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option("--status", help="open, in_progress, referred, resolved, unresolved."),
    ] = None,
    category: Annotated[str | None, typer.Option("--category")] = None,
    hood: Annotated[str | None, typer.Option("--hood")] = None,
    limit: LimitOpt = 100,
    as_json: JsonOpt = False,
) -> None:
    """List concerns, newest first."""
    rows = _store(ctx).list_concerns(status=status, category=category, hood=hood, limit=limit)
    if as_json:
        emit_json(rows)
        return
    from fieldlog import render

    render.table(
        rows,
        [
            ("short_id", "ID"),
            ("contact_occurred_at", "When"),
            ("category", "Category"),
            ("priority", "Priority"),
            ("status", "Status"),
            ("neighborhood", "Hood"),
            ("description", "Description"),
        ],
        empty="No concerns match.",
        narrow=("contact_occurred_at", "priority"),
    )


@concern_app.command("update")
def concern_update(
    ctx: typer.Context,
    concern_id: Annotated[str, typer.Argument(metavar="ID", help="Concern id.")],
    status: Annotated[str | None, typer.Option("--status")] = None,
    priority: Annotated[str | None, typer.Option("--priority")] = None,
    resolution: Annotated[
        str | None, typer.Option("--resolution", help="How it was resolved (resolves it).")
    ] = None,
    category: Annotated[str | None, typer.Option("--category")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a concern's status, priority or resolution."""
    values = _given(
        status=status,
        priority=priority,
        resolution=resolution,
        category=category,
        description=description,
    )
    if not values:
        raise FieldlogError(
            "Nothing to change: give at least one option (see fieldlog concern update -h)."
        )
    row = _store(ctx).update_concern(concern_id, **values)
    _print_updated(row, "concern", as_json)


# ---------------------------------------------------------------------- referrals
@app.command()
def refer(
    ctx: typer.Context,
    contact: Annotated[str, typer.Argument(help="Contact id.")],
    agency: Annotated[str, typer.Argument(help="Agency or partner (a partner's name links it).")],
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    service: Annotated[
        str | None, typer.Option("--service", help="housing, mental_health, youth, food, ...")
    ] = None,
    follow_up: Annotated[
        str | None, typer.Option("--follow-up", help="Follow up by WHEN (default in 7 days).")
    ] = None,
    concern: Annotated[
        str | None, typer.Option("--concern", help="The concern this answers (id).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a referral made for a contact."""
    store = _store(ctx)
    values = _given(reason=reason, service=service, follow_up_on=follow_up, concern=concern)
    rid = store.add_referral(contact, agency, **values)
    _print_new(store, "referrals", rid, as_json)


@referral_app.command("list")
def referral_list(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option("--status", help="made, accepted, declined, unreachable, completed, or open."),
    ] = None,
    service: Annotated[str | None, typer.Option("--service")] = None,
    org: Annotated[str | None, typer.Option("--org", help="Partner name or id.")] = None,
    limit: LimitOpt = 100,
    as_json: JsonOpt = False,
) -> None:
    """List referrals, newest first."""
    rows = _store(ctx).list_referrals(status=status, service=service, organization=org, limit=limit)
    if as_json:
        emit_json(rows)
        return
    from fieldlog import render

    render.table(
        rows,
        [
            ("short_id", "ID"),
            ("contact_occurred_at", "When"),
            ("agency", "Agency"),
            ("service", "Service"),
            ("status", "Status"),
            ("follow_up_on", "Follow up"),
            ("reason", "Reason"),
        ],
        empty="No referrals match.",
        narrow=("contact_occurred_at", "service"),
    )


@referral_app.command("update")
def referral_update(
    ctx: typer.Context,
    referral_id: Annotated[str, typer.Argument(metavar="ID", help="Referral id.")],
    status: Annotated[str | None, typer.Option("--status")] = None,
    outcome: Annotated[str | None, typer.Option("--outcome")] = None,
    follow_up: Annotated[
        str | None, typer.Option("--follow-up", help="New follow-up date ('none' clears).")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    service: Annotated[str | None, typer.Option("--service")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a referral's status, outcome or follow-up date."""
    values = _given(
        status=status, outcome=outcome, follow_up_on=follow_up, reason=reason, service=service
    )
    if not values:
        raise FieldlogError(
            "Nothing to change: give at least one option (see fieldlog referral update -h)."
        )
    row = _store(ctx).update_referral(referral_id, **values)
    _print_updated(row, "referral", as_json)


# ---------------------------------------------------------------------- organizations
def _org_values(**kw: Any) -> dict[str, Any]:
    values = _given(**kw)
    if "services" in values:
        values["services"] = [values["services"]]
    return values


@org_app.command("add")
def org_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The partner's name.")],
    kind: Annotated[
        str | None, typer.Option("--kind", help="faith, school, nonprofit, health, ...")
    ] = None,
    contact_person: Annotated[str | None, typer.Option("--contact-person")] = None,
    phone: Annotated[str | None, typer.Option("--phone")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    address: Annotated[str | None, typer.Option("--address")] = None,
    hood: Annotated[str | None, typer.Option("--hood")] = None,
    services: Annotated[
        str | None, typer.Option("--services", help="Comma-separated: housing,food,...")
    ] = None,
    notes: Annotated[str | None, typer.Option("--notes")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a partner organization to the directory."""
    store = _store(ctx)
    values = _org_values(
        kind=kind,
        contact_person=contact_person,
        phone=phone,
        email=email,
        address=address,
        neighborhood=hood,
        services=services,
        notes=notes,
    )
    rid = store.add_org(name=name, **values)
    _print_new(store, "organizations", rid, as_json)


@org_app.command("list")
def org_list(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    hood: Annotated[str | None, typer.Option("--hood")] = None,
    service: Annotated[str | None, typer.Option("--service")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List partner organizations with their referral counts."""
    rows = _store(ctx).list_orgs(kind=kind, hood=hood, service=service)
    if as_json:
        emit_json(rows)
        return
    from fieldlog import render

    render.table(
        rows,
        [
            ("short_id", "ID"),
            ("name", "Name"),
            ("kind", "Kind"),
            ("neighborhood", "Hood"),
            ("services", "Services"),
            ("phone", "Phone"),
            ("referral_count", "Referrals"),
        ],
        empty="No partners yet: add one with fieldlog org add NAME.",
        narrow=("neighborhood", "phone"),
    )


@org_app.command("show")
def org_show(
    ctx: typer.Context,
    org: Annotated[str, typer.Argument(metavar="NAME-or-ID")],
    as_json: JsonOpt = False,
) -> None:
    """Show a partner organization."""
    o = _store(ctx).get_org(org)
    if as_json:
        emit_json(o)
        return
    from fieldlog import render

    render.record(
        o["name"],
        [
            ("Kind", o["kind"]),
            ("Status", o["status"]),
            ("Contact", o["contact_person"]),
            ("Phone", o["phone"]),
            ("Email", o["email"]),
            ("Address", o["address"]),
            ("Neighborhood", o["neighborhood"]),
            ("Services", o["services"]),
            ("Notes", o["notes"]),
            ("Last verified", o["last_verified"]),
            ("Referrals", str(o["referral_count"])),
            ("Id", o["id"]),
        ],
    )


@org_app.command("edit")
def org_edit(
    ctx: typer.Context,
    org: Annotated[str, typer.Argument(metavar="NAME-or-ID")],
    name: Annotated[str | None, typer.Option("--name")] = None,
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    contact_person: Annotated[str | None, typer.Option("--contact-person")] = None,
    phone: Annotated[str | None, typer.Option("--phone")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    address: Annotated[str | None, typer.Option("--address")] = None,
    hood: Annotated[str | None, typer.Option("--hood")] = None,
    services: Annotated[str | None, typer.Option("--services")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="active, inactive, defunct.")
    ] = None,
    verified: Annotated[
        str | None, typer.Option("--verified", help="Date the details were last checked.")
    ] = None,
    notes: Annotated[str | None, typer.Option("--notes")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a partner's details."""
    values = _org_values(
        name=name,
        kind=kind,
        contact_person=contact_person,
        phone=phone,
        email=email,
        address=address,
        neighborhood=hood,
        services=services,
        status=status,
        notes=notes,
    )
    if verified is not None:
        from fieldlog import dates

        values["last_verified"] = dates.parse_day(verified, future=False, field="verified")
    if not values:
        raise FieldlogError(
            "Nothing to change: give at least one option (see fieldlog org edit -h)."
        )
    o = _store(ctx).update_org(org, **values)
    if as_json:
        emit_json(o)
    else:
        typer.echo(f"Updated {o['name']} ({o['short_id']}).")


@app.command()
def tui(ctx: typer.Context) -> None:
    """Open the full-screen interface (also what bare `fieldlog` does on a terminal)."""
    _run_tui(ctx.find_root().obj)


def _run_tui(state: _State) -> None:
    from fieldlog.app import make_app
    from fieldlog.paths import resolve_db_path

    make_app(resolve_db_path(state.db)).run()


# ---------------------------------------------------------------------- helpers
def _given(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


def _print_new(store: Store, table: str, rid: str, as_json: bool) -> None:
    short = store.short_id(table, rid)
    if as_json:
        emit_json({"id": rid, "short_id": short})
    else:
        typer.echo(short)


def _print_updated(row: dict[str, Any], noun: str, as_json: bool) -> None:
    if as_json:
        emit_json(row)
    else:
        typer.echo(f"Updated {noun} {row['short_id']} (status: {row['status']}).")


QUICK_COMMANDS = {"add"}
_GLOBAL_VALUE_OPTIONS = {"--db"}


def _subcommand(argv: list[str]) -> str | None:
    """The command word in ``argv`` (after global options), if any."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _GLOBAL_VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def quick_app(name: str) -> typer.Typer:
    """The same root and one command: Typer builds a Click command for every registered
    command on each run (~50 ms for the whole tree), which the quick-entry path skips."""
    quick = typer.Typer(
        cls=FieldlogGroup,
        invoke_without_command=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    quick.registered_callback = app.registered_callback
    quick.registered_commands = [
        c for c in app.registered_commands if (c.name or c.callback.__name__) == name
    ]
    return quick


def main() -> None:
    """Console-script entry point."""
    name = _subcommand(sys.argv[1:])
    target = quick_app(name) if name in QUICK_COMMANDS else app
    target(prog_name="fieldlog")


# Commands defined in their own modules register themselves on ``app`` when imported. They
# keep their heavy imports inside the command functions, so this costs the quick path ~nothing.
from fieldlog import (  # noqa: E402, F401
    cli_audit,
    cli_crypto,
    cli_export,
    cli_import,
    cli_report,
    cli_sync,
)

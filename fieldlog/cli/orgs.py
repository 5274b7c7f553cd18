"""``fieldlog org add | list | show | edit | merge``: the community partners directory, with
each partner's upkeep figures (docs/partners.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fieldlog.cli.common import (
    JsonOpt,
    _given,
    _print_new,
    emit_json,
    page_option,
    page_size,
    store_of,
)
from fieldlog.cli.group import _typer
from fieldlog.errors import FieldlogError, ValidationError
from fieldlog.text import plural, printable

app = _typer("The community partners directory.")

SCREEN_PAGE = 100  # rows a list shows on screen ("Showing 100 of 700"); --json gives all
PageOpt = Annotated[int | None, page_option(SCREEN_PAGE)]


def _org_values(**kw: Any) -> dict[str, Any]:
    values = _given(**kw)
    if "services" in values:
        values["services"] = [values["services"]]
    return values


@app.command("add")
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
    new: Annotated[
        bool,
        typer.Option(
            "--new", help="Add it even if its name is close to a partner's (a different one)."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add a partner organization to the directory. A name close to a partner's (Parks Dept
    for Parks Department) is offered instead: asked on a terminal, refused in a script."""
    store = store_of(ctx)
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
    if not new and _existing_meant(store, name, as_json):
        return
    rid = store.orgs.add(name=name, **values)
    _print_new(store, "organizations", rid, as_json)


def _existing_meant(store: Any, name: str, as_json: bool) -> bool:
    """Whether the officer means a partner already in the directory whose name is close to
    ``name``: asked on a terminal (True: nothing is added); in a script or with --json a
    close name is refused with the fix (the existing partner, or --new)."""
    if store.orgs.find(name) is not None:
        return False  # the same name: Organizations.add says it is there already
    from fieldlog import partners
    from fieldlog.cli.suggest import can_ask

    matches = partners.similar(store, name)
    if not matches:
        return False
    shorts = {m.id: store.records.short_id("organizations", m.id) for m in matches}
    if as_json or not can_ask():
        listed = " or ".join(f"'{m.name}' ({shorts[m.id]})" for m in matches)
        raise ValidationError(
            "name",
            f"'{name}' is close to the partner {listed} already in the directory: use that "
            "one, or add it anyway with --new.",
        )
    for m in matches:
        if typer.confirm(f"Did you mean '{m.name}' ({shorts[m.id]})?", default=True, err=True):
            typer.echo(
                f"Nothing added: '{printable(m.name, newlines=False)}' ({shorts[m.id]}) is in "
                f"the directory (fieldlog org edit {shorts[m.id]} changes its details)."
            )
            return True
    return False


@app.command("list")
def org_list(
    ctx: typer.Context,
    kind: Annotated[
        str | None, typer.Option("--kind", help="faith, school, nonprofit, health, ...")
    ] = None,
    hood: Annotated[str | None, typer.Option("--hood", help="Neighborhood (any case).")] = None,
    service: Annotated[
        str | None, typer.Option("--service", help="housing, mental_health, youth, food, ...")
    ] = None,
    limit: PageOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List partner organizations with their upkeep: last contact, contacts and referrals
    of the last 90 days, open referrals, details verified within a year."""
    from fieldlog import partners

    store = store_of(ctx)
    filters = {"kind": kind, "hood": hood, "service": service}
    page = page_size(limit, as_json, SCREEN_PAGE)
    rows = partners.upkeep(store, limit=page, **filters)
    if as_json:
        emit_json(rows)
        return
    from fieldlog import render

    total = store.orgs.count(**filters) if page and len(rows) == page else None
    render.table(
        [partners.display(r) for r in rows],
        [
            ("short_id", "ID"),
            ("name", "Name"),
            ("neighborhood", "Hood"),
            *partners.UPKEEP_COLUMNS,
        ],
        empty="No partners match."
        if any(filters.values())
        else "No partners yet: add one with fieldlog org add NAME.",
        narrow=("neighborhood",),
        wrap=("name",),
        total=total,
    )


@app.command("show")
def org_show(
    ctx: typer.Context,
    org: Annotated[str, typer.Argument(metavar="NAME-or-ID")],
    as_json: JsonOpt = False,
) -> None:
    """Show a partner organization with its upkeep figures."""
    from fieldlog import partners

    o = partners.with_days([store_of(ctx).orgs.get(org)])[0]
    if as_json:
        emit_json(o)
        return
    from fieldlog import render

    verified = o["last_verified"] or "never"
    verified += (
        " (within a year)"
        if o["verified_within_year"]
        else " (over a year ago: check the details, then fieldlog org edit --verified today)"
        if o["last_verified"]
        else " (check the details, then fieldlog org edit --verified today)"
    )

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
            ("Last verified", verified),
            ("Last contact", partners.last_contact_text(o)),
            (
                "Last 90 days",
                f"{plural(o['contacts_90d'], 'contact')}, {plural(o['referrals_90d'], 'referral')}",
            ),
            ("Open referrals", str(o["open_referrals"])),
            ("Referrals", str(o["referral_count"])),
            ("Id", o["id"]),
        ],
    )


@app.command("edit")
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
    o = store_of(ctx).orgs.update(org, **values)
    if as_json:
        emit_json(o)
    else:
        typer.echo(f"Updated {printable(o['name'], newlines=False)} ({o['short_id']}).")


@app.command("merge")
def org_merge(
    ctx: typer.Context,
    keep: Annotated[
        str, typer.Argument(metavar="A", help="The partner kept (name or id): B folds into it.")
    ],
    fold: Annotated[
        str, typer.Argument(metavar="B", help="The duplicate (name or id), deleted once merged.")
    ],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (for scripts).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Merge two partners: keep A, fold B into it. B's contacts and referrals move to A, B's
    details fill A's empty ones (services joined, notes added), and B is deleted (a tombstone
    that syncs). Every change is synced and audited; fieldlog undo brings B back."""
    from fieldlog import partners
    from fieldlog.cli.suggest import can_ask

    store = store_of(ctx)
    plan = partners.plan_merge(store, keep, fold)
    a, b = plan.keep, plan.fold
    what = (
        f"Fold '{printable(b['name'], newlines=False)}' ({b['short_id']}) into "
        f"'{printable(a['name'], newlines=False)}' ({a['short_id']}): move "
        f"{plural(len(plan.contacts), 'contact')} and {plural(len(plan.referrals), 'referral')}"
        f" to it and delete '{printable(b['name'], newlines=False)}'?"
    )
    if not yes:
        if as_json or not can_ask():
            raise ValidationError(
                "yes",
                "fieldlog org merge moves records and deletes a partner: add --yes to run it "
                "from a script.",
            )
        typer.confirm(what, abort=True, err=True)
    plan = partners.merge(store, a["id"], b["id"])
    if as_json:
        emit_json(plan.as_dict())
        return
    typer.echo(
        f"Merged {printable(b['name'], newlines=False)} ({b['short_id']}) into "
        f"{printable(a['name'], newlines=False)} ({a['short_id']}): "
        f"{plural(len(plan.contacts), 'contact')} and {plural(len(plan.referrals), 'referral')}"
        " moved" + (f", filled {', '.join(sorted(plan.values))}" if plan.values else "") + "."
    )
    for f, v in plan.dropped.items():
        shown = ", ".join(v) if isinstance(v, list) else str(v)
        typer.echo(
            printable(f"Kept {a['name']}'s own {f}; {b['name']}'s was {shown}.", newlines=False),
            err=True,
        )

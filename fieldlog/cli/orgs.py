"""``fieldlog org add | list | show | edit``: the community partners directory."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fieldlog.cli.common import (
    JsonOpt,
    _given,
    _print_new,
    _typer,
    emit_json,
    page_option,
    page_size,
    store_of,
)
from fieldlog.errors import FieldlogError
from fieldlog.text import printable

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
    as_json: JsonOpt = False,
) -> None:
    """Add a partner organization to the directory."""
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
    rid = store.orgs.add(name=name, **values)
    _print_new(store, "organizations", rid, as_json)


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
    """List partner organizations with their referral counts."""
    orgs = store_of(ctx).orgs
    filters = {"kind": kind, "hood": hood, "service": service}
    page = page_size(limit, as_json, SCREEN_PAGE)
    rows = orgs.list(limit=page, **filters)
    if as_json:
        emit_json(rows)
        return
    from fieldlog import render

    total = orgs.count(**filters) if page and len(rows) == page else None
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
        empty="No partners match."
        if any(filters.values())
        else "No partners yet: add one with fieldlog org add NAME.",
        narrow=("neighborhood", "phone"),
        total=total,
    )


@app.command("show")
def org_show(
    ctx: typer.Context,
    org: Annotated[str, typer.Argument(metavar="NAME-or-ID")],
    as_json: JsonOpt = False,
) -> None:
    """Show a partner organization."""
    o = store_of(ctx).orgs.get(org)
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

"""``fieldlog concern add | list | update``: the concerns raised at a contact."""

from __future__ import annotations

from typing import Annotated

import typer

from fieldlog.cli.common import (
    JsonOpt,
    _given,
    _print_new,
    _print_updated,
    emit_json,
    page_option,
    page_size,
    store_of,
)
from fieldlog.cli.group import _typer
from fieldlog.errors import FieldlogError

app = _typer("Concerns raised at a contact: add, list, update.")

SCREEN_PAGE = 100  # rows a list shows on screen ("Showing 100 of 700"); --json gives all
PageOpt = Annotated[int | None, page_option(SCREEN_PAGE)]


@app.command("add")
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
    store = store_of(ctx)
    values = {"category": category, "description": text}
    if priority:
        values["priority"] = priority
    rid = store.concerns.add(contact, **values)
    _print_new(store, "concerns", rid, as_json)


@app.command("list")
def concern_list(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option("--status", help="open, in_progress, referred, resolved, unresolved."),
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="noise, traffic, youth, housing, ...")
    ] = None,
    hood: Annotated[str | None, typer.Option("--hood", help="Neighborhood (any case).")] = None,
    limit: PageOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List concerns, newest first, with how each was resolved."""
    concerns = store_of(ctx).concerns
    filters = {"status": status, "category": category, "hood": hood}
    page = page_size(limit, as_json, SCREEN_PAGE)
    rows = concerns.list(limit=page, **filters)
    if as_json:
        emit_json(rows)
        return
    from fieldlog import render

    total = concerns.count(**filters) if page and len(rows) == page else None
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
            ("resolution", "Resolution"),
        ],
        empty="No concerns match.",
        narrow=("contact_occurred_at", "priority", "neighborhood"),
        total=total,
    )


@app.command("update")
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
    row = store_of(ctx).concerns.update(concern_id, **values)
    _print_updated(row, "concern", as_json)

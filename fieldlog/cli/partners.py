"""``fieldlog partners [--cold 60d]``: the partners with their upkeep figures, or the ones going
cold (docs/partners.md). The figures and the cold rule are :mod:`fieldlog.partners`'."""

from __future__ import annotations

from typing import Annotated

import typer

from fieldlog.cli.common import JsonOpt, emit_json, page_option, page_size, store_of
from fieldlog.cli.group import _typer

app = _typer()

SCREEN_PAGE = 100  # rows shown on screen; --json gives all


@app.command("partners")
def partners_cmd(
    ctx: typer.Context,
    cold: Annotated[
        str | None,
        typer.Option(
            "--cold",
            metavar="AGE",
            help="Only active partners not contacted for AGE (60d, 8w, or a date): never "
            "contacted ones first, then the longest silent.",
        ),
    ] = None,
    limit: Annotated[int | None, page_option(SCREEN_PAGE)] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the partners with their upkeep: last contact, contacts and referrals of the last
    90 days, open referrals, details verified within a year. --cold lists the relationships
    about to lapse."""
    from fieldlog import partners

    store = store_of(ctx)
    page = page_size(limit, as_json, SCREEN_PAGE)
    if cold is not None:
        since = partners.cold_since(cold)
        rows = partners.with_days(store.orgs.cold(since, limit=page))
        total = store.orgs.count_cold(since) if page and len(rows) == page else None
        empty = f"No active partner has gone {cold.strip()} without a contact."
    else:
        rows = partners.upkeep(store, limit=page)
        total = store.orgs.count() if page and len(rows) == page else None
        empty = "No partners yet: add one with fieldlog org add NAME."
    if as_json:
        emit_json(rows)
        return
    from fieldlog import render

    render.table(
        [partners.display(r) for r in rows],
        [
            ("short_id", "ID"),
            ("name", "Name"),
            ("status", "Status"),
            ("silent", "Days"),
            *partners.UPKEEP_COLUMNS,
        ],
        empty=empty,
        narrow=("status", "last_contact"),
        wrap=("name",),
        total=total,
    )
    if rows:
        typer.echo("Days: since the last contact. " + partners.UPKEEP_LEGEND, err=True)

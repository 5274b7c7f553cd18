"""``fieldlog refer`` and ``fieldlog referral list | update``: referrals made to agencies and
partners. ``app`` (``refer``) merges into the top level; ``referral_app`` is the named group."""

from __future__ import annotations

from typing import Annotated

import typer

from fieldlog.cli.common import (
    JsonOpt,
    LimitOpt,
    _given,
    _print_new,
    _print_updated,
    _typer,
    emit_json,
    store_of,
)
from fieldlog.errors import FieldlogError

app = _typer()
referral_app = _typer("Referrals made to agencies and partners: list, update.")


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
    store = store_of(ctx)
    values = _given(reason=reason, service=service, follow_up_on=follow_up, concern=concern)
    rid = store.referrals.add(contact, agency, **values)
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
    rows = store_of(ctx).referrals.list(
        status=status, service=service, organization=org, limit=limit
    )
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
    row = store_of(ctx).referrals.update(referral_id, **values)
    _print_updated(row, "referral", as_json)

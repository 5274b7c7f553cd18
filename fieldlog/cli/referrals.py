"""``fieldlog refer``, ``fieldlog done`` and ``fieldlog referral list | update | sheet``:
referrals made to agencies and partners, follow-ups marked done, and the sheet a partner fills
in (fieldlog.export.sheet). ``app`` (``refer``, ``done``) merges into
the top level; ``referral_app`` is the named group."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fieldlog import models
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
from fieldlog.errors import AmbiguousIdError, FieldlogError, NotFoundError, ValidationError
from fieldlog.text import printable

app = _typer()
referral_app = _typer("Referrals made to agencies and partners: list, update.")

SCREEN_PAGE = 100  # rows a list shows on screen ("Showing 100 of 700"); --json gives all
PageOpt = Annotated[int | None, page_option(SCREEN_PAGE)]


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
    new_agency: Annotated[
        bool,
        typer.Option(
            "--new-agency", help="The agency is not a partner, even if a partner's name is close."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Record a referral made for a contact."""
    from fieldlog.cli.suggest import agency_to_use

    store = store_of(ctx)
    from fieldlog.entry import typed_times

    values = _given(reason=reason, service=service, follow_up_on=follow_up, concern=concern)
    warnings = typed_times(values)  # a follow-up already past is kept, with a warning
    store.records.resolve("contacts", contact)  # a wrong id is said before any question
    agency = agency_to_use(store, agency, new_agency=new_agency)
    rid = store.referrals.add(contact, agency, **values)
    for warning in warnings:
        typer.echo(f"Warning: {warning}", err=True)
    _print_new(store, "referrals", rid, as_json)


@referral_app.command("list")
def referral_list(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option("--status", help="made, accepted, declined, unreachable, completed, or open."),
    ] = None,
    service: Annotated[
        str | None, typer.Option("--service", help="housing, mental_health, youth, food, ...")
    ] = None,
    org: Annotated[str | None, typer.Option("--org", help="Partner name or id.")] = None,
    agency: Annotated[
        str | None,
        typer.Option("--agency", help="Agency name as typed, partner or not (any case)."),
    ] = None,
    hood: Annotated[str | None, typer.Option("--hood", help="Neighborhood (any case).")] = None,
    limit: PageOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List referrals, newest first, with what came of each."""
    referrals = store_of(ctx).referrals
    filters = {"status": status, "service": service, "organization": org, "agency": agency}
    filters["hood"] = hood
    page = page_size(limit, as_json, SCREEN_PAGE)
    rows = referrals.list(limit=page, **filters)
    if as_json:
        emit_json(rows)
        return
    from fieldlog import render

    total = referrals.count(**filters) if page and len(rows) == page else None
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
            ("outcome", "Outcome"),
        ],
        empty="No referrals match.",
        narrow=("contact_occurred_at", "service", "follow_up_on"),
        total=total,
    )


@referral_app.command("update")
def referral_update(
    ctx: typer.Context,
    referral_id: Annotated[str, typer.Argument(metavar="ID", help="Referral id.")],
    status: Annotated[
        str | None,
        typer.Option("--status", help="made, accepted, declined, unreachable, completed."),
    ] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help="What came of it.")] = None,
    follow_up: Annotated[
        str | None, typer.Option("--follow-up", help="New follow-up date ('none' clears).")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    service: Annotated[str | None, typer.Option("--service")] = None,
    concern: Annotated[
        str | None,
        typer.Option(
            "--concern",
            metavar="ID",
            help="The concern of its contact it answers ('none' unlinks).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a referral's status, outcome, follow-up date or concern."""
    values = _given(
        status=status,
        outcome=outcome,
        follow_up_on=follow_up,
        reason=reason,
        service=service,
        concern=concern,
    )
    if not values:
        raise FieldlogError(
            "Nothing to change: give at least one option (see fieldlog referral update -h)."
        )
    from fieldlog.entry import typed_times

    warnings = typed_times(values)
    row = store_of(ctx).referrals.update(referral_id, **values)
    for warning in warnings:
        typer.echo(f"Warning: {warning}", err=True)
    _print_updated(row, "referral", as_json)


@referral_app.command("sheet")
def referral_sheet(
    ctx: typer.Context,
    partner: Annotated[
        str, typer.Argument(metavar="PARTNER", help="The partner: its name or id (prefix).")
    ],
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="The file to write: .xlsx (a workbook with a drop-down of the statuses) or "
            ".csv. Default: referrals-PARTNER-DATE.xlsx in the current folder.",
        ),
    ] = None,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact", help="Residents' names as pseudonyms, reasons scrubbed (export rules)."
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a partner's open referrals as a sheet for them to fill in (status, outcome) and
    send back; fieldlog import FILE applies what they wrote."""
    from pathlib import Path

    from fieldlog.export.sheet import write_sheet

    done = write_sheet(
        store_of(ctx), partner, Path(out) if out else None, redact=redact, force=force
    )
    if as_json:
        emit_json(
            {"path": str(done.path), "partner_id": done.partner_id, "partner": done.partner,
             "rows": done.rows, "format": done.format}
        )  # fmt: skip
        return
    import shlex

    n = done.rows
    typer.echo(
        printable(
            f"Wrote {done.path}: {n} open referral{'s' if n != 1 else ''} to {done.partner}. "
            f"When it comes back filled in: fieldlog import {shlex.quote(str(done.path))}"
        )
    )


# ---------------------------------------------------------------------- done
def _pending(store: Any, table: str, rid: str) -> bool:
    """Whether the record has a follow-up left to do (what ``fieldlog followups`` lists)."""
    if table == "referrals":
        status = store.scalar("SELECT status FROM referrals WHERE id = ?", [rid])
        return status in models.REFERRAL_OPEN_STATUSES
    return store.scalar("SELECT follow_up_on FROM contacts WHERE id = ?", [rid]) is not None


def _follow_up_of(store: Any, ref: str) -> tuple[str, str]:
    """``("referrals" | "contacts", full id)`` of the follow-up an id names: a referral or a
    contact (``fieldlog followups`` lists both). A referral typed with its contact shares the
    contact's first characters, so a short id can fit one of each: the one with a follow-up
    left is meant (neither: the referral, which says it is done already); when both have, the
    error gives each a prefix that tells them apart."""
    found: list[tuple[str, str]] = []
    for table in ("referrals", "contacts"):
        try:
            found.append((table, store.records.resolve(table, ref)))
        except NotFoundError:
            continue
    if not found:
        raise NotFoundError(
            f"No referral or contact has an id starting with '{ref}': check the id "
            "(fieldlog followups lists what is due)."
        )
    if len(found) > 1:
        pending = [f for f in found if _pending(store, *f)]
        if len(pending) == 1:
            return pending[0]
        if not pending:  # nothing left to do on either: the referral, which then says so
            return found[0]
        (_, a), (_, b) = found
        common = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
        shown = " and ".join(
            f"{t[:-1]} {max(store.records.short_id(t, rid), rid[: common + 1], key=len)}"
            for t, rid in found
        )
        raise AmbiguousIdError(
            f"The id '{ref}' fits {shown}: type the one you mean.", [rid for _, rid in found]
        )
    return found[0]


def _one_line(value: Any, width: int = 40) -> str:
    text = printable(" ".join(str(value or "").split()), newlines=False)
    return text if len(text) <= width else text[: width - 1].rstrip() + "\u2026"


@app.command()
def done(
    ctx: typer.Context,
    record_id: Annotated[
        str,
        typer.Argument(metavar="ID", help="A referral's or a contact's id (fieldlog followups)."),
    ],
    outcome: Annotated[
        str | None,
        typer.Option("--outcome", metavar="TEXT", help="What came of it (kept on the record)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Mark a follow-up done: a referral is completed (with its outcome), a contact's
    follow-up date is cleared (an outcome is added to its notes)."""
    from fieldlog import dates

    store = store_of(ctx)
    table, rid = _follow_up_of(store, record_id)
    if table == "referrals":
        row, changed = store.referrals.complete(rid, outcome)
        what = f"referral {row['short_id']} ({_one_line(row['agency'])})"
        said = "completed" if changed else "already completed"
    else:
        c = store.contacts.get(rid)
        if not c["follow_up_on"] and outcome is None:
            raise ValidationError(
                "follow_up_on",
                f"Contact {c['short_id']} has no follow-up to mark done: fieldlog followups "
                "lists what is due.",
            )
        values: dict[str, Any] = {"follow_up_on": None}
        if outcome is not None and outcome.strip():
            note = f"Follow-up done {dates.today_local()}: {outcome.strip()}"
            values["notes"] = f"{c['notes']}\n\n{note}" if c["notes"] else note
        row = store.contacts.update(rid, values)
        what = f"contact {row['short_id']} ({_one_line(row['summary'])})"
        said = "follow-up cleared" if c["follow_up_on"] else "outcome added"
    if as_json:
        emit_json({"type": table[:-1], "result": said, **row})
    else:
        typer.echo(printable(f"Done: {what} \u2014 {said}."))

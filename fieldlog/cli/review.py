"""``fieldlog review list | approve | return``: a supervisor's review of contacts.

On the laptop (the default) a review is a write like any other, carried to the department by
the next sync; with ``--remote NAME`` it is done directly against the department store
(:mod:`fieldlog.remote_review`). The rules live in :mod:`fieldlog.review`; this module parses,
checks this laptop may review, calls and prints. The root adds ``app`` under ``review``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from fieldlog.cli.common import JsonOpt, emit_json, state_of, store_of
from fieldlog.cli.group import _typer
from fieldlog.errors import ValidationError
from fieldlog.text import plural, printable

if TYPE_CHECKING:
    from fieldlog.db.store import Store

app = _typer("A supervisor's review of contacts: list, approve, return.")

RemoteOpt = Annotated[
    str | None,
    typer.Option(
        "--remote",
        metavar="NAME",
        help="Work directly on the department store (a saved remote's name or a "
        "postgresql:// URL) instead of this laptop's log.",
    ),
]
IdsArg = Annotated[
    list[str],
    typer.Argument(metavar="ID", help="Contact ids (a unique start of each is enough)."),
]
STATUSES = "submitted|returned|approved"  # or all
STATUS_HELP = "submitted (the default: waiting for review), returned, approved, or all."


def _remote_url(ctx: typer.Context, remote: str) -> str:
    """The department store ``--remote`` names, chosen as ``fieldlog sync`` chooses one."""
    from fieldlog.sync import choose

    state = state_of(ctx)
    saved = state.store().sync.remotes() if state.exists() else {}
    return choose(saved, remote)[0][1]


def _status(value: str | None) -> str | None:
    if value is None:
        return "submitted"
    if value.strip().lower() == "all":
        return None
    from fieldlog import review

    return review.status(value)


def _check_may_review(store: Store) -> None:
    from fieldlog import review

    reason = review.may_review(store)
    if reason is not None:
        raise ValidationError("review", reason)


def _now() -> str:
    from fieldlog import dates

    return dates.to_storage(dates.now())


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", metavar=STATUSES, help=STATUS_HELP)
    ] = None,
    officer: Annotated[
        str | None, typer.Option("--officer", metavar="NAME", help="Officer (any case).")
    ] = None,
    as_json: JsonOpt = False,
    remote: RemoteOpt = None,
) -> None:
    """Contacts by review status, oldest first (default: those waiting for review)."""
    wanted = _status(status)
    rows: list[dict[str, Any]]
    if remote is not None:
        from fieldlog.remote_review import list_remote

        rows = list_remote(_remote_url(ctx, remote), wanted, officer)
    else:
        rows = store_of(ctx).contacts.reviews(status=wanted, officer=officer)
    if as_json:
        emit_json(rows)
        return
    from fieldlog import render

    render.table(
        rows,
        [
            ("short_id", "ID"),
            ("occurred_at", "When"),
            ("officer", "Officer"),
            ("review_status", "Review"),
            ("summary", "Summary"),
            ("review_comment", "Comment"),
            ("reviewed_by", "Reviewed by"),
        ],
        empty="No contacts match." if wanted != "submitted" else "No contacts wait for review.",
        narrow=("reviewed_by",),
    )


@app.command("approve")
def approve_cmd(ctx: typer.Context, ids: IdsArg, remote: RemoteOpt = None) -> None:
    """Approve contacts (supervisors): reviewed by you, now."""
    from fieldlog import review

    store = store_of(ctx)
    if remote is not None:
        from fieldlog.remote_review import approve_remote

        n = approve_remote(store, _remote_url(ctx, remote), ids)
        typer.echo(f"Approved {plural(n, 'contact')} on the department store.")
        return
    _check_may_review(store)
    done = store.contacts.review_all(ids, review.approve_values(store.officer(), _now()))
    shorts = ", ".join(store.records.short_id("contacts", rid) for rid in done)
    typer.echo(
        printable(
            f"Approved {plural(len(done), 'contact')} ({shorts}): the department sees it "
            "at your next sync."
        )
    )


@app.command("return")
def return_cmd(
    ctx: typer.Context,
    contact_id: Annotated[
        str, typer.Argument(metavar="ID", help="The contact's id (a unique start is enough).")
    ],
    comment: Annotated[
        str | None,
        typer.Option("--comment", metavar="TEXT", help="What the officer should fix (required)."),
    ] = None,
    remote: RemoteOpt = None,
) -> None:
    """Return a contact to its officer with a comment saying what to fix (supervisors)."""
    from fieldlog import review

    if comment is None or not comment.strip():
        raise ValidationError(
            "comment",
            "Say what the officer should fix: fieldlog review return ID --comment TEXT",
        )
    store = store_of(ctx)
    if remote is not None:
        from fieldlog.remote_review import return_remote

        return_remote(store, _remote_url(ctx, remote), contact_id, comment)
        typer.echo("Returned the contact to its officer on the department store.")
        return
    _check_may_review(store)
    values = review.return_values(store.officer(), comment, _now())
    (rid,) = store.contacts.review_all([contact_id], values)
    row = store.contacts.get(rid)
    typer.echo(
        printable(
            f"Returned contact {row['short_id']} to {row['officer']}: they see your comment "
            "after your next sync and theirs."
        )
    )

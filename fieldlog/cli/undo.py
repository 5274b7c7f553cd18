"""``fieldlog undo``: take back the last write of this officer on this laptop.

The work is :mod:`fieldlog.db.undo` (the audit chain says what each write did; the undo is a
write of its own, so it syncs and is audited). This shell shows what will be undone, asks on
a terminal like ``delete`` does (``--yes`` does not), and says what was undone.
"""

from __future__ import annotations

from typing import Annotated

import typer

from fieldlog.cli.common import JsonOpt, emit_json, store_of
from fieldlog.cli.group import _typer
from fieldlog.text import printable

app = _typer()


@app.command()
def undo(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be undone; change nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Undo your last change on this laptop (an add, an edit, a delete); again goes further back.

    Only your own writes on this laptop, newest first, like Taskwarrior's undo: a second undo
    takes back the write before, not the undo. It refuses when someone changed the record
    since (a synced edit), so nothing of theirs is overwritten.
    """
    from fieldlog import dates
    from fieldlog.db import undo as undo_mod

    store = store_of(ctx)
    plan = undo_mod.peek(store)
    when = dates.show_local(plan.write.at)
    if dry_run:
        if as_json:
            emit_json(
                {**plan.as_json(), "message": f"Would undo {plan.describe()}", "dry_run": True}
            )
        else:
            typer.echo(printable(f"Would undo {plan.describe()}, written {when}."))
        return
    if not yes:
        typer.confirm(f"Undo {plan.describe()}, written {when}?", abort=True, err=True)
    done = undo_mod.undo(store, expect=plan.write.first)
    if as_json:
        emit_json(done.as_json())
    else:
        typer.echo(printable(f"Undid {done.describe()}."))

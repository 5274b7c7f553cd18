"""How the contact form opens from the app: empty (``n``), or at start-up with each unsaved
form left in the log by a crash or a closed terminal, offered back one by one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from fieldlog import dates
from fieldlog.tui.base import run_store
from fieldlog.tui.dialogs.restore import RestoreDialog
from fieldlog.tui.screens.form import ContactFormScreen
from fieldlog.tui.widgets.cells import one_line

if TYPE_CHECKING:
    from textual.app import App

    from fieldlog.db.store import Store


def open_new_contact(app: App[Any], *, repeat: bool = False) -> None:
    """``n``: the empty form (``ctrl+r``: with the last contact's place filled in); a list
    underneath reloads once the contact is saved."""

    def done(cid: str | None) -> None:
        restart = getattr(app.screen, "restart", None)
        if cid and restart is not None:
            restart()

    app.push_screen(ContactFormScreen(repeat=repeat), done)


def offer_drafts(app: App[Any]) -> None:
    """At start-up, offer back every contact form left unsaved (a crash, a closed terminal)."""

    def found(store: Store) -> list[tuple[str, dict[str, Any]]]:
        names = [n for n in store.drafts.names() if n.startswith("contact-")]
        return [(n, d) for n in names if (d := store.drafts.load(n))]

    run_store(app, found, lambda drafts: _offer_next(app, drafts), group="drafts")


def _offer_next(app: App[Any], drafts: list[tuple[str, dict[str, Any]]]) -> None:
    if not drafts:
        return
    (name, draft), rest = drafts[0], drafts[1:]
    when = dates.show_local(draft.get("saved_at")) or "earlier"
    question = Text(f"Restore the unsaved contact from {when}?")
    summary = one_line(draft.get("summary") or draft.get("fields", {}).get("summary"))
    if summary:
        question.append(f"\n{summary[:120]}", style="italic")
    if draft.get("contact_id"):
        question.append(f"\n(changes to contact {draft.get('short_id') or ''})")

    def then_next(_: Any = None) -> None:
        _offer_next(app, rest)

    def answered(yes: bool | None) -> None:
        if yes:
            app.push_screen(ContactFormScreen(draft=draft), then_next)
            return
        run_store(app, lambda s: s.drafts.drop(name), group="drop-draft")
        then_next()

    app.push_screen(RestoreDialog(question), answered)

"""The contact form (new and edit).

The form is a ModalScreen so the app's one-letter keys (``q``, ``n``, ``d``...) cannot fire from
a focused Select or Button and throw typed work away. Whatever is typed is saved as a draft in
the log itself (debounced, in a worker), so a crash or a closed terminal loses nothing: the next
start offers it back (``screens/drafts.py``). Validation is the store's: a ValidationError names
its field, and the message is shown under that field. Saving is one ``store.entries.save`` call:
the contact, its new concerns and referrals (the entry rule linking them) and the dropped draft
commit in one transaction, for a new contact and an edited one alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static, TextArea

from fieldlog import models
from fieldlog.errors import FieldlogError, NotFoundError, ValidationError
from fieldlog.tui.base import StoreScreen, run_store
from fieldlog.tui.dialogs.confirm import ConfirmDialog
from fieldlog.tui.screens.form_fields import (
    ERROR_FIELD,
    EXTRA_INPUTS,
    FIELDS,
    PLACEHOLDERS,
    SUGGEST,
    blank_values,
    contact_values,
    store_value,
)
from fieldlog.tui.widgets.cells import one_line
from fieldlog.tui.widgets.items import (
    ItemRow,
    clean_concern,
    clean_referral,
    concern_label,
    referral_label,
)
from fieldlog.tui.widgets.selects import (
    category_select,
    priority_select,
    select_value,
    service_select,
    set_select,
)
from fieldlog.tui.widgets.suggest import suggester_for

if TYPE_CHECKING:
    from fieldlog.db.store import Store

DRAFT_DELAY = 0.5  # seconds of quiet typing before the draft is written


class ContactFormScreen(StoreScreen, ModalScreen[str | None]):
    """New or edited contact; dismisses with the contact's id once saved, None if discarded."""

    AUTO_FOCUS = "#summary"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True, tooltip="Save the contact"),
        Binding("escape", "cancel", "Cancel", tooltip="Close the form (asks if you typed)"),
    ]

    def __init__(
        self,
        contact: dict[str, Any] | None = None,
        *,
        draft: dict[str, Any] | None = None,
    ) -> None:
        """``contact`` (from ``Contacts.get``) edits it; ``draft`` restores a saved form."""
        super().__init__(classes="form-screen")
        self.contact_id: str | None = contact["id"] if contact else None
        self.short_id: str = contact.get("short_id", "") if contact else ""
        self.initial = contact_values(contact) if contact else blank_values()
        self.start = dict(self.initial)
        self.start_extra: dict[str, str] = {}
        self.concerns: list[dict[str, Any]] = []
        self.referrals: list[dict[str, Any]] = []
        if draft:
            self.contact_id = draft.get("contact_id") or self.contact_id
            self.short_id = draft.get("short_id") or self.short_id
            self.initial = {**self.initial, **draft.get("initial", {})}
            self.start = {**self.initial, **draft.get("fields", {})}
            self.start_extra = dict(draft.get("extra", {}))
            self.concerns = list(draft.get("concerns", []))
            self.referrals = list(draft.get("referrals", []))
        self.draft_timer: Timer | None = None
        self.draft_saved = bool(draft)
        self.closing = False

    @property
    def draft_name(self) -> str:
        return f"contact-edit-{self.contact_id}" if self.contact_id else "contact-new"

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            for fid, label, _ in FIELDS:
                with Horizontal(classes="field", id=f"row-{fid}"):
                    yield Label(label, classes="field-label")
                    with Vertical(classes="field-box"):
                        yield self._field_widget(fid)
                        yield Label("", id=f"{fid}-error", classes="error", markup=False)

            yield Static("Concerns", classes="form-section", id="concerns-title")
            with Horizontal(classes="add-row"):
                yield category_select("concern-category")
                yield priority_select("concern-priority")
                yield Input(
                    placeholder="What is the concern?", id="concern-description", compact=True
                )
                yield Button("Add concern", id="add-concern", compact=True)
            yield Label("", id="concern-error", classes="error", markup=False)
            yield Vertical(id="concern-list", classes="item-list")

            yield Static("Referrals", classes="form-section", id="referrals-title")
            with Horizontal(classes="add-row"):
                yield Input(placeholder="Agency", id="referral-agency", compact=True)
                yield service_select("referral-service")
                yield Input(placeholder="Reason", id="referral-reason", compact=True)
                yield Button("Add referral", id="add-referral", compact=True)
            yield Label("", id="referral-error", classes="error", markup=False)
            yield Vertical(id="referral-list", classes="item-list")
            yield Static(
                "Ctrl+S saves · Esc closes · Tab moves on · → takes a suggestion",
                classes="form-hint",
            )
        yield Footer()

    def _field_widget(self, fid: str) -> Widget:
        value = self.start.get(fid, "")
        if fid == "kind":
            kinds = list(models.CONTACT_KINDS)
            return Select(
                [(k, k) for k in kinds],
                allow_blank=False,
                value=value if value in kinds else "resident",
                id=fid,
                compact=True,
            )
        if fid == "notes":
            return TextArea(value, id=fid, soft_wrap=True, compact=True, tab_behavior="focus")
        return Input(value, placeholder=PLACEHOLDERS.get(fid, ""), id=fid, compact=True)

    def on_mount(self) -> None:
        self.sub_title = f"Edit contact {self.short_id}" if self.contact_id else "New contact"
        for wid, value in self.start_extra.items():
            widget = self.query_one(f"#{wid}")
            if isinstance(widget, Input):
                widget.value = value
            elif isinstance(widget, Select):
                set_select(widget, value)
        for c in self.concerns:
            self._show_item("concern", c)
        for r in self.referrals:
            self._show_item("referral", r)
        self._count_items()
        self.db(
            lambda s: {fid: s.records.suggestions(name) for fid, name in SUGGEST.items()},
            self._set_suggestions,
            group="suggest",
        )

    def _set_suggestions(self, words: dict[str, list[str]]) -> None:
        for fid, values in words.items():
            if values:
                self.query_one(f"#{fid}", Input).suggester = suggester_for(fid, values)

    # ------------------------------------------------------------------ values
    def field_values(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for fid, _, _ in FIELDS:
            widget = self.query_one(f"#{fid}")
            if isinstance(widget, Select):
                values[fid] = select_value(widget)
            elif isinstance(widget, TextArea):
                values[fid] = widget.text
            else:
                values[fid] = widget.value  # type: ignore[attr-defined]
        return values

    def extra_values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for wid in EXTRA_INPUTS:
            widget = self.query_one(f"#{wid}")
            out[wid] = (
                select_value(widget) if isinstance(widget, Select) else widget.value  # type: ignore[attr-defined]
            )
        return out

    def is_dirty(self) -> bool:
        """Anything typed that saving would keep (or a half-typed concern or referral)."""
        if self.field_values() != self.initial or self.concerns or self.referrals:
            return True
        extra = self.extra_values()
        return bool(
            extra["concern-description"] or extra["referral-agency"] or extra["referral-reason"]
        )

    def draft_body(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "short_id": self.short_id,
            "summary": one_line(self.query_one("#summary", Input).value)[:80],
            "initial": self.initial,
            "fields": self.field_values(),
            "extra": self.extra_values(),
            "concerns": self.concerns,
            "referrals": self.referrals,
        }

    # ------------------------------------------------------------------ drafts
    @on(Input.Changed)
    @on(Select.Changed)
    @on(TextArea.Changed)
    def _changed(self, event: Any) -> None:
        control = getattr(event, "control", None) or getattr(event, "text_area", None)
        fid = getattr(control, "id", None)
        if fid:
            self._show_error(fid.split("-")[0] if fid.startswith(("concern", "referral")) else fid)
        self.schedule_draft()

    def schedule_draft(self) -> None:
        if self.closing:
            return
        if self.draft_timer is not None:
            self.draft_timer.stop()
        self.draft_timer = self.set_timer(DRAFT_DELAY, self.save_draft)

    def save_draft(self) -> None:
        self.draft_timer = None
        if self.closing:
            return
        name = self.draft_name
        if self.is_dirty():
            body = self.draft_body()
            self.draft_saved = True
            self.db(lambda s: s.drafts.save(name, body), group="draft")
        elif self.draft_saved:
            self.draft_saved = False
            self.db(lambda s: s.drafts.drop(name), group="draft")

    def _stop_drafts(self) -> None:
        self.closing = True
        if self.draft_timer is not None:
            self.draft_timer.stop()
            self.draft_timer = None
        self.workers.cancel_group(self, "draft")

    # ------------------------------------------------------------------ concerns, referrals
    def _show_item(self, kind: str, item: dict[str, Any]) -> None:
        label = concern_label(item) if kind == "concern" else referral_label(item)
        self.query_one(f"#{kind}-list", Vertical).mount(ItemRow(kind, item, label))

    def _count_items(self) -> None:
        new = "New c" if self.contact_id else "C"  # editing: the saved ones are on the detail
        self.query_one("#concerns-title", Static).update(
            f"{new}oncerns ({len(self.concerns)})" if self.concerns else f"{new}oncerns"
        )
        new = "New r" if self.contact_id else "R"
        self.query_one("#referrals-title", Static).update(
            f"{new}eferrals ({len(self.referrals)})" if self.referrals else f"{new}eferrals"
        )

    @on(Button.Pressed, "#add-concern")
    def action_add_concern(self) -> None:
        category = self.query_one("#concern-category", Select)
        description = self.query_one("#concern-description", Input)
        try:
            concern = clean_concern(
                {
                    "category": select_value(category),
                    "description": description.value,
                    "priority": select_value(self.query_one("#concern-priority", Select)),
                }
            )
        except ValidationError as err:
            self._show_error("concern", str(err))
            (category if err.field == "category" else description).focus()
            return
        self.concerns.append(concern)
        self._show_item("concern", concern)
        self._count_items()
        description.value = ""
        category.clear()
        self.query_one("#concern-priority", Select).value = "normal"
        category.focus()
        self.schedule_draft()

    @on(Button.Pressed, "#add-referral")
    def action_add_referral(self) -> None:
        agency = self.query_one("#referral-agency", Input)
        reason = self.query_one("#referral-reason", Input)
        service = self.query_one("#referral-service", Select)
        try:
            referral = clean_referral(
                {"agency": agency.value, "service": select_value(service), "reason": reason.value}
            )
        except ValidationError as err:
            self._show_error("referral", str(err))
            agency.focus()
            return
        self.referrals.append(referral)
        self._show_item("referral", referral)
        self._count_items()
        agency.value = reason.value = ""
        service.clear()
        agency.focus()
        self.schedule_draft()

    @on(Button.Pressed, ".remove")
    def _remove_item(self, event: Button.Pressed) -> None:
        row = event.button.parent
        if not isinstance(row, ItemRow):
            return
        items = self.concerns if row.kind == "concern" else self.referrals
        for i, item in enumerate(items):
            if item is row.item:
                del items[i]
                break
        row.remove()
        self._count_items()
        self.schedule_draft()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter adds a concern or referral from its row; in other fields it moves on."""
        event.stop()
        wid = event.input.id or ""
        if wid == "concern-description":
            self.action_add_concern()
        elif wid in ("referral-agency", "referral-reason"):
            self.action_add_referral()
        else:
            self.focus_next()

    # ------------------------------------------------------------------ errors
    def _show_error(self, fid: str, message: str = "") -> None:
        try:
            label = self.query_one(f"#{fid}-error", Label)
        except Exception:
            return
        label.update(message)
        label.set_class(bool(message), "-shown")

    def clear_errors(self) -> None:
        for label in self.query(".error").results(Label):
            label.update("")
            label.remove_class("-shown")

    def show_validation(self, err: FieldlogError) -> None:
        message = str(err)
        field = getattr(err, "field", None)
        if field is None and isinstance(err, NotFoundError) and "organization" in message:
            field = "organization"
        fid = ERROR_FIELD.get(str(field))
        if fid is not None:
            self._show_error(fid, message)
            target = {
                "concern": "#concern-description",
                "referral": "#referral-agency",
            }.get(fid, f"#{fid}")
            widget = self.query_one(target)
            widget.focus()
            self.call_after_refresh(widget.scroll_visible)
        self.notify(message, severity="error", markup=False)

    # ------------------------------------------------------------------ save, cancel
    def action_save(self) -> None:
        if self.closing:
            return
        self.clear_errors()
        values = self.field_values()
        cid, name = self.contact_id, self.draft_name
        concerns = [dict(c) for c in self.concerns]
        referrals = [dict(r) for r in self.referrals]
        if cid is None:
            contact = {key: store_value(fid, values[fid]) for fid, _, key in FIELDS}
        else:  # only what changed: the sync log records fields, and seconds survive
            contact = {
                key: store_value(fid, values[fid])
                for fid, _, key in FIELDS
                if values[fid] != self.initial.get(fid)
            }

        def call(store: Store) -> tuple[str, Any, str]:
            # One transaction, new or edit: the contact, its new concerns and referrals (the
            # entry rule linking them) and the draft, so a failure leaves nothing half-saved.
            try:
                new_id = store.entries.save(contact, concerns, referrals, contact=cid, draft=name)
                return "ok", new_id, store.records.short_id("contacts", new_id)
            except (ValidationError, NotFoundError) as err:
                return "error", err, ""

        if self.draft_timer is not None:  # a late draft must not outlive the save
            self.draft_timer.stop()
            self.draft_timer = None
        self.workers.cancel_group(self, "draft")
        self.db(call, self._saved, group="save")

    def _saved(self, result: tuple[str, Any, str]) -> None:
        status, value, short = result
        if status == "error":
            self.show_validation(value)
            return
        self._stop_drafts()
        self.notify(f"Saved contact {short}", markup=False)
        self.dismiss(value)

    def action_cancel(self) -> None:
        if not self.is_dirty():
            self._discard()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._discard()

        what = "changes to this contact" if self.contact_id else "new contact"
        self.app.push_screen(ConfirmDialog(f"Discard the unsaved {what}?"), answered)

    def _discard(self) -> None:
        self._stop_drafts()
        if self.draft_saved:
            name = self.draft_name
            # On the app, not this screen: the screen's workers stop when it closes.
            run_store(self.app, lambda s: s.drafts.drop(name), group="drop-draft")
        self.dismiss(None)

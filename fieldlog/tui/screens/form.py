"""The contact form (new and edit).

The form is a ModalScreen so the app's one-letter keys (``q``, ``n``, ``d``...) cannot fire from
a focused field and throw typed work away. Tab order follows what nearly every contact has:
summary, person, neighborhood (the officer's default already in it), then one concern line
(category typed ahead, text, priority) and one referral line (agency, reason, service), then
the rarer fields. A filled line is part of the save, with no "Add" step to forget; Enter on a
filled line opens the next. ``ctrl+r`` repeats the last contact's place (same kind, partner,
neighborhood, beat, location, tags; time now) for the next person at the same event.

Whatever is typed is saved as a draft in the log itself (debounced, in a worker), half-typed
lines included, so a crash or a closed terminal loses nothing: the next start offers it back
(``screens/drafts.py``). Validation is the store's: a ValidationError names its field, and the
message is shown under that field or line. Saving is one ``store.entries.save`` call: the
contact, its new concerns and referrals (the entry rule linking them) and the dropped draft
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
from textual.widgets import Footer, Header, Input, Label, Select, Static, TextArea

from fieldlog import dates, entry, models
from fieldlog.errors import FieldlogError, NotFoundError, ValidationError
from fieldlog.tui.base import StoreScreen, run_store
from fieldlog.tui.dialogs.confirm import ConfirmDialog
from fieldlog.tui.screens.form_fields import (
    ERROR_FIELD,
    FIELDS,
    MAIN_FIELDS,
    PLACEHOLDERS,
    REPEAT_FIELDS,
    SUGGEST,
    blank_values,
    contact_values,
    store_value,
)
from fieldlog.tui.widgets.cells import one_line
from fieldlog.tui.widgets.lines import ConcernLine, ItemLine, ReferralLine
from fieldlog.tui.widgets.selects import select_value, set_select
from fieldlog.tui.widgets.suggest import suggester_for

if TYPE_CHECKING:
    from fieldlog.db.store import Store

DRAFT_DELAY = 0.5  # seconds of quiet typing before the draft is written
LINE_CLASSES: dict[str, type[ItemLine]] = {"concern": ConcernLine, "referral": ReferralLine}


class ContactFormScreen(StoreScreen, ModalScreen[str | None]):
    """New or edited contact; dismisses with the contact's id once saved, None if discarded."""

    AUTO_FOCUS = "#summary"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True, tooltip="Save the contact"),
        Binding("ctrl+r", "repeat_last", "Repeat last", tooltip="Same place as the last contact"),
        Binding("escape", "cancel", "Cancel", tooltip="Close the form (asks if you typed)"),
    ]

    def __init__(
        self,
        contact: dict[str, Any] | None = None,
        *,
        draft: dict[str, Any] | None = None,
        repeat: bool = False,
    ) -> None:
        """``contact`` (from ``Contacts.get``) edits it; ``draft`` restores a saved form;
        ``repeat`` fills in the last contact's place as ctrl+r does."""
        super().__init__(classes="form-screen")
        self.contact_id: str | None = contact["id"] if contact else None
        self.short_id: str = contact.get("short_id", "") if contact else ""
        self.initial = contact_values(contact) if contact else blank_values()
        self.start = dict(self.initial)
        self.start_lines: dict[str, list[dict[str, str]]] = {"concern": [], "referral": []}
        self.repeat = repeat
        self.words: dict[str, list[str]] = {}
        if draft:
            self.contact_id = draft.get("contact_id") or self.contact_id
            self.short_id = draft.get("short_id") or self.short_id
            self.initial = {**self.initial, **draft.get("initial", {})}
            self.start = {**self.initial, **draft.get("fields", {})}
            self.start_lines = draft_lines(draft)
        self.draft_timer: Timer | None = None
        self.draft_saved = bool(draft)
        self.closing = False
        self.typed: set[str] = set()  # fields the officer has typed in (defaults keep off)
        self.error_values: dict[str, str] = {}  # field id -> its value when its error showed
        self.saving = (0, 0)  # concerns and referrals in the save under way
        self.warnings: list[str] = []  # what to say once saved (a follow-up already overdue)

    @property
    def draft_name(self) -> str:
        return f"contact-edit-{self.contact_id}" if self.contact_id else "contact-new"

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            for fid, label, _ in FIELDS:
                if fid not in MAIN_FIELDS:
                    continue
                yield from self._field_row(fid, label)
            new = "New " if self.contact_id else ""
            for kind in ("concern", "referral"):
                with Vertical(id=f"{kind}-lines", classes="lines"):
                    values = self.start_lines[kind] or [{}]
                    for i, line in enumerate(values, start=1):
                        yield LINE_CLASSES[kind](i, line)
            if new:
                yield Static(
                    "Concern and referral lines add new ones; the saved ones are on the "
                    "contact's screen.",
                    classes="form-hint",
                )
            yield Static("More", classes="form-section")
            for fid, label, _ in FIELDS:
                if fid in MAIN_FIELDS:
                    continue
                yield from self._field_row(fid, label)
            yield Static(
                "Ctrl+S saves · Tab moves on · Enter on a line adds another · "
                "→ takes a suggestion · Ctrl+R repeats the last place · Esc closes",
                classes="form-hint",
            )
        yield Footer()

    def _field_row(self, fid: str, label: str) -> ComposeResult:
        with Horizontal(classes="field", id=f"row-{fid}"):
            yield Label(label, classes="field-label")
            with Vertical(classes="field-box"):
                yield self._field_widget(fid)
                yield Label("", id=f"{fid}-error", classes="error", markup=False)

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
        # The summary keeps what is there when the form opens (an edit must not be replaced by
        # the first key); other fields select their text on Tab, so typing replaces a default.
        return Input(
            value,
            placeholder=PLACEHOLDERS.get(fid, ""),
            id=fid,
            compact=True,
            select_on_focus=fid != "summary",
        )

    def on_mount(self) -> None:
        self.sub_title = f"Edit contact {self.short_id}" if self.contact_id else "New contact"
        new = self.contact_id is None

        def load(s: Store) -> dict[str, Any]:
            out: dict[str, Any] = {
                "words": {fid: s.records.suggestions(name) for fid, name in SUGGEST.items()},
                "hood": s.default_hood() if new else None,
            }
            if self.repeat:
                out["last"] = s.entries.last()
            return out

        self.db(load, self._loaded, group="suggest")

    def _loaded(self, got: dict[str, Any]) -> None:
        self.words = got["words"]
        for fid, values in self.words.items():
            if values and fid != "referral-agency":
                self.query_one(f"#{fid}", Input).suggester = suggester_for(fid, values)
        for line in self.query(ReferralLine):
            self._suggest_agency(line)
        hood = self.query_one("#neighborhood", Input)
        if got.get("hood") and not hood.value and "neighborhood" not in self.typed:
            hood.value = got["hood"]  # the default `init --hood` set, shown, not applied unseen
            self.initial["neighborhood"] = hood.value
            self.start["neighborhood"] = hood.value
        if "last" in got:
            self._repeat(got["last"])

    def _suggest_agency(self, line: ItemLine) -> None:
        agencies = self.words.get("referral-agency")
        if agencies:
            line.first.suggester = suggester_for("referral-agency", agencies)

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

    def lines(self, kind: str) -> list[ItemLine]:
        return list(self.query_one(f"#{kind}-lines", Vertical).query(LINE_CLASSES[kind]))

    def line_values(self) -> dict[str, list[dict[str, str]]]:
        """Every line as typed, filled or not (the draft keeps half-typed lines too)."""
        return {kind: [line.values() for line in self.lines(kind)] for kind in LINE_CLASSES}

    @property
    def concerns(self) -> list[dict[str, Any]]:
        """The filled concern lines as concerns (those that check out)."""
        return self._items("concern")

    @property
    def referrals(self) -> list[dict[str, Any]]:
        return self._items("referral")

    def _items(self, kind: str) -> list[dict[str, Any]]:
        out = []
        for line in self.lines(kind):
            if line.filled():
                try:
                    out.append(line.item())
                except ValidationError:
                    continue
        return out

    def is_dirty(self) -> bool:
        """Anything typed that saving would keep, a half-typed line included."""
        if self.field_values() != self.initial:
            return True
        return any(line.filled() for kind in LINE_CLASSES for line in self.lines(kind))

    def draft_body(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "short_id": self.short_id,
            "summary": one_line(self.query_one("#summary", Input).value)[:80],
            "initial": self.initial,
            "fields": self.field_values(),
            "lines": self.line_values(),
        }

    # ------------------------------------------------------------------ drafts
    @on(Input.Changed)
    @on(Select.Changed)
    @on(TextArea.Changed)
    def _changed(self, event: Any) -> None:
        control = getattr(event, "control", None) or getattr(event, "text_area", None)
        fid = getattr(control, "id", None)
        if fid:
            if control is not None and control.has_focus:
                self.typed.add(fid)
            line = self._line_of(control)
            if line is not None:
                line.changed()
            elif self.error_values.get(fid) != self._value_of(control):
                self._show_error(fid)
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

    # ------------------------------------------------------------------ lines
    @staticmethod
    def _line_of(widget: object) -> ItemLine | None:
        node = getattr(widget, "parent", None)
        while node is not None and not isinstance(node, ItemLine):
            node = node.parent
        return node

    async def add_line(self, kind: str) -> ItemLine:
        """A new empty line of ``kind`` at the end, focused once it is mounted (the next key
        waits for this handler, so it lands in the new line)."""
        box = self.query_one(f"#{kind}-lines", Vertical)
        line = LINE_CLASSES[kind](len(self.lines(kind)) + 1)
        await box.mount(line)
        if kind == "referral":
            self._suggest_agency(line)
        line.first.focus()
        return line

    async def action_add_concern(self) -> None:
        """A new concern line (what Enter on a filled concern line does)."""
        await self.add_line("concern")

    async def action_add_referral(self) -> None:
        await self.add_line("referral")

    @on(Input.Submitted)
    async def _submitted(self, event: Input.Submitted) -> None:
        """Enter on a filled line opens the next line of its kind (or goes to it); anywhere
        else it moves on, like Tab."""
        event.stop()
        line = self._line_of(event.input)
        if line is None or not line.filled():
            self.focus_next()
            return
        lines = self.lines(line.KIND)
        following = lines[lines.index(line) + 1 :]
        if following:
            following[0].first.focus()
        else:
            await self.add_line(line.KIND)

    # ------------------------------------------------------------------ repeat last
    def action_repeat_last(self) -> None:
        """ctrl+r: the last contact's place and event (kind, partner, neighborhood, beat,
        location, tags) with the time now; the summary, person and lines stay as typed."""
        self.db(lambda s: s.entries.last(), self._repeat, group="repeat")

    def _repeat(self, last: dict[str, Any] | None) -> None:
        if not last:
            self.notify("No earlier contact to repeat.", severity="warning")
            return
        values = contact_values(last)
        for fid in REPEAT_FIELDS:
            widget = self.query_one(f"#{fid}")
            if isinstance(widget, Select):
                set_select(widget, values[fid])
            elif isinstance(widget, Input):
                widget.value = values[fid]
        self.query_one("#when", Input).value = "now"
        when = dates.show_local(last.get("occurred_at")) or ""
        self.notify(f"Same place as {last['short_id']} ({when}); time now.", markup=False)

    # ------------------------------------------------------------------ errors
    @staticmethod
    def _value_of(widget: object) -> str:
        if isinstance(widget, Select):
            return select_value(widget)
        if isinstance(widget, TextArea):
            return widget.text
        return str(getattr(widget, "value", ""))

    def _show_error(self, fid: str, message: str = "") -> None:
        """Show ``message`` under field ``fid`` ("" hides it); until the field changes from
        what it holds now, a late change message does not hide it."""
        try:
            label = self.query_one(f"#{fid}-error", Label)
        except Exception:
            return
        if message:
            self.error_values[fid] = self._value_of(self.query(f"#{fid}").first())
        else:
            self.error_values.pop(fid, None)
        label.update(message)
        label.set_class(bool(message), "-shown")

    def clear_errors(self) -> None:
        self.error_values.clear()
        for line in self.query(ItemLine):
            line.error_values = None
        for label in self.query(".error").results(Label):
            label.update("")
            label.remove_class("-shown")

    def show_validation(self, err: FieldlogError) -> None:
        message = str(err)
        field = getattr(err, "field", None)
        if field is None and isinstance(err, NotFoundError) and "organization" in message:
            field = "organization"
        fid = ERROR_FIELD.get(str(field))
        if fid in LINE_CLASSES:
            filled = [line for line in self.lines(fid) if line.filled()] or self.lines(fid)
            self._line_error(filled[0], err)
        elif fid is not None:
            self._show_error(fid, message)
            widget = self.query_one(f"#{fid}")
            widget.focus()
            self.call_after_refresh(widget.scroll_visible)
        self.notify(message, severity="error", markup=False)

    def _line_error(self, line: ItemLine, err: ValidationError | FieldlogError) -> None:
        line.show_error(str(err))
        widget = line.error_field(err) if isinstance(err, ValidationError) else line.first
        widget.focus()
        self.call_after_refresh(widget.scroll_visible)

    # ------------------------------------------------------------------ save, cancel
    def action_save(self) -> None:
        if self.closing:
            return
        self.clear_errors()
        items: dict[str, list[dict[str, Any]]] = {"concern": [], "referral": []}
        for kind in LINE_CLASSES:
            for number, line in enumerate(self.lines(kind), start=1):
                if not line.filled():
                    continue
                try:
                    items[kind].append(line.item())
                except ValidationError as err:
                    # a half-typed line is never dropped: the save waits for it
                    self._line_error(line, err)
                    name = line.LABEL if number == 1 else f"{line.LABEL} {number}"
                    self.notify(f"{name}: {err}", severity="error", markup=False)
                    return
        values = self.field_values()
        cid, name = self.contact_id, self.draft_name
        concerns, referrals = items["concern"], items["referral"]
        if cid is None:
            contact = {key: store_value(fid, values[fid]) for fid, _, key in FIELDS}
        else:  # only what changed: the sync log records fields, and seconds survive
            contact = {
                key: store_value(fid, values[fid])
                for fid, _, key in FIELDS
                if values[fid] != self.initial.get(fid)
            }

        try:  # the time and follow-up as typed: not in the future, not 10+ years ago
            warnings = entry.typed_times(contact, at_label="When", follow_label="Follow up on")
        except ValidationError as err:
            self.show_validation(err)
            return

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
        self.saving = (len(concerns), len(referrals))  # what the saved notice counts
        self.warnings = warnings
        self.db(call, self._saved, group="save")

    def _saved(self, result: tuple[str, Any, str]) -> None:
        status, value, short = result
        if status == "error":
            self.show_validation(value)
            return
        self._stop_drafts()
        n_c, n_r = self.saving
        extra = ""
        if n_c or n_r:
            extra = f" with {n_c} concern{'s' * (n_c != 1)}, {n_r} referral{'s' * (n_r != 1)}"
        self.notify(f"Saved contact {short}{extra}", markup=False)
        for warning in self.warnings:
            self.notify(warning, severity="warning", markup=False)
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


def draft_lines(draft: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """A draft's concern and referral lines. Drafts saved before the lines (an "Add" button
    and an ``extra`` row) come back as lines too: the added items first, then the row."""
    if "lines" in draft:
        return {k: [dict(v) for v in draft["lines"].get(k, [])] for k in LINE_CLASSES}
    extra = draft.get("extra", {})
    concerns = [
        {k: str(c.get(k) or "") for k in ("category", "description", "priority")}
        for c in draft.get("concerns", [])
    ]
    referrals = [
        {k: str(r.get(k) or "") for k in ("agency", "reason", "service")}
        for r in draft.get("referrals", [])
    ]
    typed_concern = {
        k: extra.get(f"concern-{k}", "") for k in ("category", "description", "priority")
    }
    if typed_concern["category"] or typed_concern["description"]:
        concerns.append(typed_concern)
    typed_referral = {k: extra.get(f"referral-{k}", "") for k in ("agency", "reason", "service")}
    if typed_referral["agency"] or typed_referral["reason"]:
        referrals.append(typed_referral)
    return {"concern": concerns, "referral": referrals}

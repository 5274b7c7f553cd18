"""The contact form (new and edit), its drafts, and the small concern and referral dialogs.

The form is a ModalScreen so the app's one-letter keys (``q``, ``n``, ``d``...) cannot fire from
a focused Select or Button and throw typed work away. Whatever is typed is saved as a draft in
the log itself (debounced, in a worker), so a crash or a closed terminal loses nothing: the next
start offers it back (:func:`offer_drafts`). Validation is the store's: a ValidationError names
its field, and the message is shown under that field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import Suggester, SuggestFromList
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static, TextArea

from fieldlog import dates, models, records
from fieldlog.errors import FieldlogError, NotFoundError, ValidationError
from fieldlog.screens.base import StoreScreen, run_store, text
from fieldlog.screens.dialogs import ConfirmDialog

if TYPE_CHECKING:
    from fieldlog.app import FieldlogApp
    from fieldlog.db.store import Store

DRAFT_DELAY = 0.5  # seconds of quiet typing before the draft is written

# Form field id -> (label, store key). Order is the Tab order.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("summary", "Summary", "summary"),
    ("when", "When", "occurred_at"),
    ("kind", "Kind", "kind"),
    ("person", "Person", "person_name"),
    ("organization", "Organization", "organization"),
    ("neighborhood", "Neighborhood", "neighborhood"),
    ("beat", "Beat", "beat"),
    ("location", "Location", "location"),
    ("tags", "Tags", "tags"),
    ("follow_up", "Follow up on", "follow_up_on"),
    ("notes", "Notes", "notes"),
)
PLACEHOLDERS = {
    "summary": "What happened, in a line",
    "when": "now, yesterday 14:30, last friday, 2024-05-01 09:00",
    "person": "Who you spoke with",
    "organization": "A partner from the directory",
    "tags": "comma separated",
    "follow_up": "none, tomorrow, next monday, in 2 weeks",
}
# Inputs whose suggestions come from earlier entries: field id -> store.suggestions() name.
SUGGEST = {
    "person": "person_name",
    "organization": "organization",
    "neighborhood": "neighborhood",
    "beat": "beat",
    "location": "location",
    "tags": "tag",
    "referral-agency": "agency",
}
# ValidationError.field -> the form field that shows the message.
ERROR_FIELD = {
    "summary": "summary",
    "date": "when",
    "when": "when",
    "occurred_at": "when",
    "kind": "kind",
    "person_name": "person",
    "organization": "organization",
    "organization_id": "organization",
    "neighborhood": "neighborhood",
    "beat": "beat",
    "location": "location",
    "tags": "tags",
    "follow-up": "follow_up",
    "follow_up_on": "follow_up",
    "notes": "notes",
    "category": "concern",
    "description": "concern",
    "priority": "concern",
    "agency": "referral",
    "service": "referral",
    "reason": "referral",
}
# The inputs of the add-concern and add-referral rows (kept in drafts too).
EXTRA_INPUTS = (
    "concern-category",
    "concern-priority",
    "concern-description",
    "referral-agency",
    "referral-service",
    "referral-reason",
)


def one_line(value: Any) -> str:
    return " ".join(str(value or "").split())


def blank_values() -> dict[str, str]:
    values = {fid: "" for fid, _, _ in FIELDS}
    values.update(when="now", kind="resident")
    return values


def contact_values(contact: dict[str, Any]) -> dict[str, str]:
    """A stored contact as the strings the form shows (they read back to the same values)."""
    return {
        "summary": contact.get("summary") or "",
        "when": dates.show_local(contact.get("occurred_at")) or "now",
        "kind": contact.get("kind") or "resident",
        "person": contact.get("person_name") or "",
        "organization": contact.get("organization_name") or "",
        "neighborhood": contact.get("neighborhood") or "",
        "beat": contact.get("beat") or "",
        "location": contact.get("location") or "",
        "tags": ", ".join(contact.get("tags") or []),
        "follow_up": contact.get("follow_up_on") or "",
        "notes": contact.get("notes") or "",
    }


def store_value(fid: str, value: str) -> Any:
    """A form string as the value ``Store.add_contact``/``update_contact`` takes."""
    if fid == "tags":
        return [value]  # the store splits on commas and tidies each tag
    if fid == "follow_up":
        return value.strip() or "none"
    return value


class TagSuggester(Suggester):
    """Completes the last comma-separated tag from the tags used before."""

    def __init__(self, tags: list[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.tags = tags

    async def get_suggestion(self, value: str) -> str | None:
        stem = value.rpartition(",")[2].lstrip().casefold()
        if not stem:
            return None
        for tag in self.tags:
            if tag.casefold().startswith(stem) and len(tag) > len(stem):
                return value + tag[len(stem) :]
        return None


def suggester_for(fid: str, words: list[str]) -> Suggester:
    if fid == "tags":
        return TagSuggester(words)
    return SuggestFromList(words, case_sensitive=False)


class ItemRow(Horizontal):
    """One concern or referral added in the form, with a button that takes it out again."""

    def __init__(self, kind: str, item: dict[str, Any], label: Text) -> None:
        super().__init__(classes="item")
        self.kind = kind
        self.item = item
        self.label = label

    def compose(self) -> ComposeResult:
        yield Static(self.label, classes="item-text")
        yield Button("Remove", classes="remove", compact=True)


def concern_label(c: dict[str, Any]) -> Text:
    t = Text(f"• {c['category']} ({c.get('priority') or 'normal'}): ", style="bold")
    t.append_text(text(c.get("description")))
    return t


def referral_label(r: dict[str, Any]) -> Text:
    t = Text(f"• {one_line(r['agency'])}", style="bold")
    if r.get("service"):
        t.append(f" [{r['service']}]", style="bold")
    if r.get("reason"):
        t.append(": ")
        t.append_text(text(r["reason"]))
    return t


def category_select(wid: str) -> Select[str]:
    return Select(
        [(c.replace("_", " "), c) for c in models.CONCERN_CATEGORIES],
        prompt="Category",
        id=wid,
        compact=True,
    )


def priority_select(wid: str) -> Select[str]:
    return Select(
        [(p, p) for p in models.PRIORITIES],
        allow_blank=False,
        value="normal",
        id=wid,
        compact=True,
    )


def service_select(wid: str) -> Select[str]:
    return Select(
        [(s.replace("_", " "), s) for s in models.REFERRAL_SERVICES],
        prompt="Service",
        id=wid,
        compact=True,
    )


def select_value(select: Select[str]) -> str:
    value = select.value
    return "" if value is Select.NULL else str(value)


def set_select(select: Select[str], value: str) -> None:
    """Set a Select from stored text, ignoring a value it does not offer."""
    options = {v for _, v in select._options}
    if value in options:
        select.value = value
    elif select._allow_blank:
        select.clear()


def clean_concern(values: dict[str, str]) -> dict[str, Any]:
    """Check a concern before it joins the form (the store checks it again on save)."""
    concern = {k: v for k, v in values.items() if v}
    records.clean("concerns", concern)
    return concern


def clean_referral(values: dict[str, str]) -> dict[str, Any]:
    referral = {k: v for k, v in values.items() if v}
    records.clean("referrals", referral)
    return referral


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
        """``contact`` (from ``Store.get_contact``) edits it; ``draft`` restores a saved form."""
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
            lambda s: {fid: s.suggestions(name) for fid, name in SUGGEST.items()},
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
            self.db(lambda s: s.save_draft(name, body), group="draft")
        elif self.draft_saved:
            self.draft_saved = False
            self.db(lambda s: s.drop_draft(name), group="draft")

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
            try:
                if cid is None:
                    new_id = store.add_contact(contact, concerns, referrals)
                else:
                    new_id = cid
                    if contact:
                        store.update_contact(cid, contact)
                    for c in concerns:
                        store.add_concern(cid, **c)
                    for r in referrals:
                        r = dict(r)
                        store.add_referral(cid, r.pop("agency"), **r)
                store.drop_draft(name)
                return "ok", new_id, store.short_id("contacts", new_id)
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
            run_store(self.fl_app, lambda s: s.drop_draft(name), group="drop-draft")
        self.dismiss(None)


# ---------------------------------------------------------------------- small dialogs
class ItemDialog(StoreScreen, ModalScreen[dict[str, Any] | None]):
    """A concern or referral for a saved contact; dismisses with its values or None."""

    BINDINGS = [
        Binding("ctrl+s", "add", "Add", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    TITLE_TEXT = ""

    def __init__(self, contact: dict[str, Any] | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.contact = contact

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog item-dialog"):
            title = Text(self.TITLE_TEXT, style="bold")
            if self.contact:
                title.append(" — ")
                title.append(one_line(self.contact.get("summary"))[:50])
            yield Label(title, markup=False, classes="dialog-question")
            yield from self.inputs()
            yield Label("", id="item-error", classes="error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add (ctrl+s)", id="add", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def inputs(self) -> ComposeResult:
        raise NotImplementedError

    def values(self) -> dict[str, Any]:
        raise NotImplementedError

    @on(Button.Pressed, "#add")
    def action_add(self) -> None:
        try:
            values = self.values()
        except ValidationError as err:
            label = self.query_one("#item-error", Label)
            label.update(str(err))
            label.add_class("-shown")
            return
        self.dismiss(values)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_add()


class ConcernDialog(ItemDialog):
    TITLE_TEXT = "Add a concern"
    AUTO_FOCUS = "#category"

    def inputs(self) -> ComposeResult:
        with Horizontal(classes="dialog-row"):
            yield category_select("category")
            yield priority_select("priority")
        yield Input(placeholder="What is the concern?", id="description", compact=True)

    def values(self) -> dict[str, Any]:
        return clean_concern(
            {
                "category": select_value(self.query_one("#category", Select)),
                "priority": select_value(self.query_one("#priority", Select)),
                "description": self.query_one("#description", Input).value,
            }
        )


class ReferralDialog(ItemDialog):
    TITLE_TEXT = "Add a referral"
    AUTO_FOCUS = "#agency"

    def inputs(self) -> ComposeResult:
        yield Input(placeholder="Agency", id="agency", compact=True)
        yield service_select("service")
        yield Input(placeholder="Reason", id="reason", compact=True)
        yield Input(placeholder="Follow up on (default: in a week)", id="follow_up", compact=True)

    def on_mount(self) -> None:
        self.db(lambda s: s.suggestions("agency"), self._suggest, group="suggest")

    def _suggest(self, words: list[str]) -> None:
        if words:
            self.query_one("#agency", Input).suggester = SuggestFromList(
                words, case_sensitive=False
            )

    def values(self) -> dict[str, Any]:
        values = clean_referral(
            {
                "agency": self.query_one("#agency", Input).value,
                "service": select_value(self.query_one("#service", Select)),
                "reason": self.query_one("#reason", Input).value,
            }
        )
        follow_up = self.query_one("#follow_up", Input).value.strip()
        if follow_up:
            values["follow_up_on"] = follow_up
        return values


# ---------------------------------------------------------------------- app entry points
class RestoreDialog(ConfirmDialog):
    """Yes is the default here: Enter by reflex must not throw a draft away."""

    def on_mount(self, event: events.Mount) -> None:
        event.prevent_default()  # ConfirmDialog's own on_mount would focus "No"
        self.query_one("#yes", Button).focus()


def open_new_contact(app: FieldlogApp) -> None:
    """``n``: the empty form; a list underneath reloads once the contact is saved."""

    def done(cid: str | None) -> None:
        restart = getattr(app.screen, "restart", None)
        if cid and restart is not None:
            restart()

    app.push_screen(ContactFormScreen(), done)


def offer_drafts(app: FieldlogApp) -> None:
    """At start-up, offer back every contact form left unsaved (a crash, a closed terminal)."""

    def found(store: Store) -> list[tuple[str, dict[str, Any]]]:
        names = [n for n in store.drafts() if n.startswith("contact-")]
        return [(n, d) for n in names if (d := store.load_draft(n))]

    run_store(app, found, lambda drafts: _offer_next(app, drafts), group="drafts")


def _offer_next(app: FieldlogApp, drafts: list[tuple[str, dict[str, Any]]]) -> None:
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
        run_store(app, lambda s: s.drop_draft(name), group="drop-draft")
        then_next()

    app.push_screen(RestoreDialog(question), answered)

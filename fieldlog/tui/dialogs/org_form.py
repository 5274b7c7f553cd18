"""Add or edit a partner organization (``a`` and ``e`` on the partner directory)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from fieldlog import models
from fieldlog.errors import FieldlogError, ValidationError
from fieldlog.tui.base import run_store

# (field, label) in form order; kind and status are Selects, the rest Inputs.
FORM_FIELDS = (
    ("name", "Name"),
    ("kind", "Kind"),
    ("contact_person", "Contact person"),
    ("phone", "Phone"),
    ("email", "Email"),
    ("address", "Address"),
    ("neighborhood", "Neighborhood"),
    ("services", "Services"),
    ("status", "Status"),
    ("notes", "Notes"),
)
SELECTS = {"kind": models.ORG_KINDS, "status": models.ORG_STATUSES}
# ValidationError.field -> the form field it belongs beside.
FIELD_OF_ERROR = {"service": "services"}
SERVICES_HINT = "any of " + ", ".join(models.REFERRAL_SERVICES)


class OrgForm(ModalScreen[str | None]):
    """Add (``org=None``) or edit a partner. Dismisses with the saved id, or None on Escape.

    Validation runs in the store (the same rules as ``fieldlog org add``); a ValidationError
    is shown under the field it names and nothing is written.
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, org: dict[str, Any] | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.org = org
        self.saving = False

    def compose(self) -> ComposeResult:
        org = self.org or {}
        title = f"Edit partner {org['name']}" if org else "New partner organization"
        with Vertical(classes="dialog fl-form"):
            yield Label(title, markup=False, classes="dialog-question fl-form-title")
            with VerticalScroll(classes="fl-form-fields"):
                for field, label in FORM_FIELDS:
                    with Horizontal(classes="fl-row"):
                        yield Label(label, classes="fl-label")
                        yield self.widget_for(field, org)
                    if field == "services":
                        yield Static(SERVICES_HINT, classes="fl-field-hint", markup=False)
                    yield Static("", id=f"{field}-error", classes="fl-error", markup=False)
            yield Label("Ctrl+S saves · Escape cancels", classes="fl-hint")

    def widget_for(self, field: str, org: dict[str, Any]) -> Input | Select[str]:
        if field in SELECTS:
            default = "other" if field == "kind" else "active"
            return Select(
                [(v.replace("_", " "), v) for v in SELECTS[field]],
                value=org.get(field) or default,
                allow_blank=False,
                compact=True,
                id=field,
            )
        value = org.get(field)
        if isinstance(value, list):
            value = ", ".join(value)
        placeholder = "comma-separated, e.g. food, youth" if field == "services" else ""
        return Input(value or "", placeholder=placeholder, compact=True, id=field)

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field, _ in FORM_FIELDS:
            if field in SELECTS:
                out[field] = self.query_one(f"#{field}", Select).value
            else:
                value = self.query_one(f"#{field}", Input).value
                if field == "services":
                    parts = value.replace(";", ",").split(",")
                    out[field] = [p.strip() for p in parts if p.strip()]
                else:
                    out[field] = value
        return out

    def clear_errors(self) -> None:
        for field, _ in FORM_FIELDS:
            error = self.query_one(f"#{field}-error", Static)
            error.update("")
            error.remove_class("-shown")
        self.query_one(".fl-field-hint", Static).display = True

    def show_error(self, err: ValidationError) -> None:
        field = FIELD_OF_ERROR.get(err.field, err.field)
        if field not in dict(FORM_FIELDS):
            self.notify(str(err), severity="error", markup=False)
            return
        error = self.query_one(f"#{field}-error", Static)
        error.update(str(err))
        error.add_class("-shown")
        if field == "services":  # the message lists the services itself
            self.query_one(".fl-field-hint", Static).display = False
        self.query_one(f"#{field}").focus()

    def action_save(self) -> None:
        if self.saving:
            return
        self.clear_errors()
        values = self.values()
        org_id = self.org["id"] if self.org else None

        def call(store: Any) -> str:
            if org_id is None:
                return str(store.orgs.add(**values))
            store.orgs.update(org_id, **values)
            return str(org_id)

        self.saving = True
        run_store(
            self, call, self.saved, group="save", failed=lambda: self.saved(None),
            on_error=self.shown_beside_field,
        )  # fmt: skip

    def saved(self, org_id: str | None) -> None:
        self.saving = False
        if org_id is not None:
            self.dismiss(org_id)

    def shown_beside_field(self, err: FieldlogError) -> bool:
        if isinstance(err, ValidationError):
            self.show_error(err)
            return True
        return False

    def action_cancel(self) -> None:
        self.dismiss(None)

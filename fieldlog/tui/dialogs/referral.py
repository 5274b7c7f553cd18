"""Add a referral to a saved contact (``a`` on the contact's detail)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.suggester import SuggestFromList
from textual.widgets import Input, Select

from fieldlog.tui.dialogs.item import ItemDialog
from fieldlog.tui.widgets.items import clean_referral
from fieldlog.tui.widgets.selects import select_value, service_select


class ReferralDialog(ItemDialog):
    TITLE_TEXT = "Add a referral"
    AUTO_FOCUS = "#agency"

    def inputs(self) -> ComposeResult:
        yield Input(placeholder="Agency", id="agency", compact=True)
        yield service_select("service")
        yield Input(placeholder="Reason", id="reason", compact=True)
        yield Input(placeholder="Follow up on (default: in a week)", id="follow_up", compact=True)

    def on_mount(self) -> None:
        self.db(lambda s: s.records.suggestions("agency"), self._suggest, group="suggest")

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

"""Edit a referral's status, follow-up date and outcome (``e`` on the referral's screen)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Input, Select

from fieldlog import dates, models
from fieldlog.db.store import NO_DATE
from fieldlog.tui.dialogs.concern_edit import EditDialog, vocab_select
from fieldlog.tui.widgets.selects import select_value


class ReferralEditDialog(EditDialog):
    TITLE_TEXT = "Referral"
    AUTO_FOCUS = "#status"

    def subject(self) -> str:
        return f"{self.record['agency']}: {self.record.get('reason') or ''}"

    def inputs(self) -> ComposeResult:
        r = self.record
        yield self.row("Status", vocab_select("status", models.REFERRAL_STATUSES, r["status"]))
        yield self.row(
            "Follow up on",
            Input(
                r.get("follow_up_on") or "",
                placeholder="friday, in 3d, 2026-05-01, none",
                id="follow_up_on",
                compact=True,
            ),
        )
        yield from self.note(
            "outcome", "Outcome: what came of it", "e.g. Housing placed her on May 3"
        )

    def values(self) -> dict[str, Any]:
        outcome = self.note_value("outcome")
        day = self.query_one("#follow_up_on", Input).value.strip()
        if day.lower() in NO_DATE:
            day = ""
        elif day != (self.record.get("follow_up_on") or ""):
            day = dates.parse_day(day, future=True, field="follow-up")
        return {
            "status": select_value(self.query_one("#status", Select)),
            "follow_up_on": day,
            "outcome": outcome,
        }

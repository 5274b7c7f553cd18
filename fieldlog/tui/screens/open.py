"""Open any record on its own screen: what a search hit, a follow-up or a palette command
calls, so every screen opens records the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App


def open_record(
    app: App[Any], noun: str, rid: str, then: Callable[[Any], None] | None = None
) -> None:
    """Push the screen of record ``rid`` of type ``noun`` (a registry noun: contact, concern,
    referral, organization); ``then`` gets what the screen dismisses with."""
    if noun == "contact":
        from fieldlog.tui.screens.detail import DetailScreen

        app.push_screen(DetailScreen(rid), then)
    elif noun == "concern":
        from fieldlog.tui.screens.record import ConcernScreen

        app.push_screen(ConcernScreen(rid), then)
    elif noun == "referral":
        from fieldlog.tui.screens.record import ReferralScreen

        app.push_screen(ReferralScreen(rid), then)
    elif noun == "organization":
        from fieldlog.tui.screens.orgs import open_org

        open_org(app, rid, then)
    else:
        raise ValueError(f"no screen for {noun!r} records")

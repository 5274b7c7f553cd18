"""Concerns and referrals typed with a contact, checked before they are saved (the store
checks them again on save). The contact form's lines and the item dialogs both use them."""

from __future__ import annotations

from typing import Any

from fieldlog import records


def clean_concern(values: dict[str, str]) -> dict[str, Any]:
    """A concern as typed, checked: raises ValidationError naming the field."""
    concern = {k: v for k, v in values.items() if v}
    records.clean("concerns", concern)
    return concern


def clean_referral(values: dict[str, str]) -> dict[str, Any]:
    referral = {k: v for k, v in values.items() if v}
    records.clean("referrals", referral)
    return referral

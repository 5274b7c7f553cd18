"""The vocabularies as compact Selects (category, priority, service), and reading them back."""

from __future__ import annotations

from textual.widgets import Select

from fieldlog import models


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
    """The chosen value, or "" for none (so it reads like an empty Input)."""
    value = select.value
    return "" if value is Select.NULL else str(value)


def set_select(select: Select[str], value: str) -> None:
    """Set a Select from stored text, ignoring a value it does not offer."""
    options = {v for _, v in select._options}
    if value in options:
        select.value = value
    elif select._allow_blank:
        select.clear()

"""'Did you mean' for partner names typed as referral agencies (issue 11).

An officer who types ``refer C "Parks Department"`` while the directory holds ``Parks Dept``
means the partner; saving an unlinked referral splits that partner's figures and its follow-ups.
:func:`check_agency` links an exact (any case) name, and refuses a *close* one with the name to
use, unless ``--new-agency`` says the agency really is new.

Closeness is :mod:`fieldlog.partners`' (issue 14): the same folding (case, accents,
punctuation, ``St.``/``Dept``/``Ctr``/``&`` spelled out) and the same rapidfuzz score decide
here, on ``org add`` and on import, so ``St. Mary's`` is ``Saint Marys``, ``Parks Department``
is ``Parks Dept`` and never ``Police Department``. Everything is imported lazily: ``fieldlog
add --refer`` pays only when a typed agency is not a partner's exact name (rapidfuzz is not
imported for an exact name, nor with no partner in the directory).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from fieldlog.errors import ValidationError

if TYPE_CHECKING:
    from fieldlog.db.store import Store
    from fieldlog.partners import Match

MAX_SUGGESTIONS = 3


def fold(name: str) -> list[str]:
    """``name`` as comparable words (:func:`fieldlog.partners.fold_name`)."""
    from fieldlog.partners import fold_name

    return fold_name(name).split()


def close_names(name: str, candidates: Iterable[str], *, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """The candidates close to ``name``, closest first (ties in the given order)."""
    from fieldlog.partners import closest

    names = list(candidates)
    return [m.name for m in closest(name, [(str(i), n) for i, n in enumerate(names)], limit=limit)]


def _quoted_or(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def check_agency(store: Store, agency: str, *, new_agency: bool) -> str | None:
    """The id of the partner ``agency`` names (exactly, any case, or by id prefix), to link the
    referral to; None when no partner is close (a new, unlinked agency, as before).

    A name close to a partner's (``Parks Department`` for ``Parks Dept``) raises a
    ValidationError naming it, unless ``new_agency`` (the officer said it is new)."""
    org = store.orgs.find(agency)
    if org is not None:
        return str(org["id"])
    if new_agency or not agency.strip():
        return None
    close = [m.name for m in _similar(store, agency)]
    if not close:
        return None
    raise ValidationError(
        "agency",
        f"No partner is named '{agency}': did you mean {_quoted_or(close)}? Use that name, "
        "or --new-agency to refer to a new agency.",
    )


def close_partner(store: Store, agency: str) -> str | None:
    """The one partner name closest to ``agency`` (for asking on a terminal), or None."""
    close = _similar(store, agency, limit=1)
    return close[0].name if close else None


def _similar(store: Store, agency: str, *, limit: int = MAX_SUGGESTIONS) -> list[Match]:
    from fieldlog.partners import similar

    return similar(store, agency, limit=limit)


def can_ask() -> bool:
    """Whether a question can be answered (stdin is a terminal); scripts get the error."""
    import sys

    return sys.stdin.isatty()


def agency_to_use(store: Store, agency: str, *, new_agency: bool) -> str:
    """The agency name to save for a referral typed as ``agency``: the same name (a partner's,
    linked by the store, or a new agency), or, on a terminal, the close partner the officer
    chose when asked. In a script (stdin not a terminal) a close name is refused with the fix,
    as :func:`check_agency` says."""
    try:
        check_agency(store, agency, new_agency=new_agency)
        return agency
    except ValidationError:
        best = close_partner(store, agency) if can_ask() else None
        if best is None:
            raise
    import typer

    if typer.confirm(f"Refer to partner '{best}'?", default=True, err=True):
        return best
    return agency  # "no": the officer means a new agency, as with --new-agency

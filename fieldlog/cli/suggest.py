"""'Did you mean' for partner names typed as referral agencies (issue 11).

An officer who types ``refer C "Parks Department"`` while the directory holds ``Parks Dept``
means the partner; saving an unlinked referral splits that partner's figures and its follow-ups.
:func:`check_agency` links an exact (any case) name, and refuses a *close* one with the name to
use, unless ``--new-agency`` says the agency really is new.

Closeness is token-aware: names are folded (case, accents, punctuation, ``'s``) and common
abbreviations expanded (``Dept``, ``St.``, ``PD``, ``Ctr``, ``&``) before they are compared, so
``St. Mary's`` and ``Saint Marys`` are the same name and ``Parks Department`` is ``Parks Dept``.
After that folding the standard library's :mod:`difflib` ranks typos as well as rapidfuzz did
on the same examples (tried on both), so no compiled dependency is added for a directory of a
few hundred names. Everything is imported lazily: ``fieldlog add --refer`` pays only when used.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from fieldlog.errors import ValidationError

if TYPE_CHECKING:
    from fieldlog.db.store import Store

# A name this close (0..1, after folding) or closer is "did you mean".
CLOSE = 0.85
MAX_SUGGESTIONS = 3

_ABBREVIATIONS = {
    "dept": "department",
    "dep": "department",
    "depts": "department",
    "st": "saint",
    "ste": "sainte",
    "mt": "mount",
    "ctr": "center",
    "cntr": "center",
    "centre": "center",
    "assn": "association",
    "assoc": "association",
    "svc": "services",
    "svcs": "services",
    "service": "services",
    "pd": "police department",
    "fd": "fire department",
    "sd": "sheriff department",
    "hs": "high school",
    "co": "county",
    "cnty": "county",
    "intl": "international",
    "natl": "national",
    "org": "organization",
    "univ": "university",
    "hosp": "hospital",
    "comm": "community",
    "ofc": "office",
    "govt": "government",
    "auth": "authority",
}
# Words that name no partner by themselves: "Parks" is contained in "Parks Dept", but
# "Department" is not a reason to suggest "Parks Department".
_GENERIC = frozenset(
    "the of and for a an at in on to department city county office services inc llc "
    "program center organization community".split()
)


def fold(name: str) -> list[str]:
    """``name`` as comparable words: lower case, no accents or punctuation, abbreviations
    expanded (``"St. Mary's Ctr"`` -> ``["saint", "marys", "center"]``)."""
    import re
    import unicodedata

    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("&", " and ").replace("\u2019", "'").replace("'", "")
    words: list[str] = []
    for word in re.findall(r"[^\W_]+", text):
        words.extend(_ABBREVIATIONS.get(word, word).split())
    return words


def closeness(a: str, b: str) -> float:
    """How alike two names are (1.0: the same name once folded)."""
    from difflib import SequenceMatcher

    wa, wb = fold(a), fold(b)
    if not wa or not wb:
        return 0.0
    if wa == wb:
        return 1.0
    score = max(
        SequenceMatcher(None, " ".join(wa), " ".join(wb), autojunk=False).ratio(),
        SequenceMatcher(None, " ".join(sorted(wa)), " ".join(sorted(wb)), autojunk=False).ratio(),
    )
    da, db = set(wa) - _GENERIC, set(wb) - _GENERIC
    if da and db and (da <= db or db <= da):  # "Parks" and "Parks Dept", "Legal Aid Society"
        score = max(score, 0.9)
    return score


def close_names(name: str, candidates: Iterable[str], *, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """The candidates close to ``name``, closest first (ties in the given order)."""
    scored = [(closeness(name, c), i, c) for i, c in enumerate(candidates)]
    best = sorted((t for t in scored if t[0] >= CLOSE), key=lambda t: (-t[0], t[1]))
    return [c for _, _, c in best[:limit]]


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
    close = close_names(agency, [r["name"] for r in store.orgs.names()])
    if not close:
        return None
    raise ValidationError(
        "agency",
        f"No partner is named '{agency}': did you mean {_quoted_or(close)}? Use that name, "
        "or --new-agency to refer to a new agency.",
    )


def close_partner(store: Store, agency: str) -> str | None:
    """The one partner name closest to ``agency`` (for asking on a terminal), or None."""
    close = close_names(agency, [r["name"] for r in store.orgs.names()], limit=1)
    return close[0] if close else None


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

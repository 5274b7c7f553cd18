"""Partnership upkeep: near-duplicate partner names, the upkeep figures, cold partners, merge.

Names are compared *folded* (:func:`fold_name`): case, accents and punctuation gone, ``&`` read
as ``and``, the usual abbreviations spelled out (``St.`` -> ``saint``, ``Dept`` ->
``department``, ``Ctr`` -> ``center`` ...). Two names are close (:func:`name_score`) when both
the whole folded names and their *distinctive* words are close: ``Parks Dept`` is ``Parks
Department``, but ``Parks Department`` is not ``Police Department`` (``parks`` vs ``police``)
and ``St. Mary's Church`` is not ``St. Mark's Church`` (``marys`` vs ``marks``).

rapidfuzz is imported inside the functions that compare names, never at module top: ``fieldlog
add`` imports this module only when a ``--refer`` name has to be matched (docs/partners.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fieldlog.errors import ValidationError

if TYPE_CHECKING:
    from fieldlog.db.repos.base import Row
    from fieldlog.db.store import Store

# A name at least this close (0-100) to a live partner's is offered instead of a new partner:
# its distinctive words at least CUTOFF close, the whole name (fillers gone) at least
# CUTOFF - WHOLE_SLACK (``Eastside Pantry`` is ``Eastside Food Pantry``; ``Westside Food
# Pantry`` is not: ``eastside`` vs ``westside`` scores 87.5).
CUTOFF = 90.0
WHOLE_SLACK = 5.0

# Abbreviations spelled out (after case and punctuation are gone).
ABBREVIATIONS: dict[str, str] = {
    "st": "saint",
    "ste": "sainte",
    "mt": "mount",
    "ft": "fort",
    "dept": "department",
    "dep": "department",
    "depts": "department",
    "ctr": "center",
    "cntr": "center",
    "centre": "center",
    "assn": "association",
    "assoc": "association",
    "svc": "services",
    "svcs": "services",
    "srvcs": "services",
    "hosp": "hospital",
    "univ": "university",
    "intl": "international",
    "natl": "national",
    "cmty": "community",
    "comm": "community",
    "ave": "avenue",
    "rd": "road",
    "blvd": "boulevard",
    "bros": "brothers",
    "sch": "school",
    "hs": "high school",
    "el": "elementary",
    "elem": "elementary",
    "lib": "library",
    "inc": "incorporated",
    "corp": "corporation",
    "co": "county",
    "govt": "government",
    "org": "organization",
    "pd": "police department",
    "fd": "fire department",
    "sd": "sheriff department",
    "cnty": "county",
    "ofc": "office",
    "auth": "authority",
}
# ``st`` after a name's own word is a street (``Elm St``), first or after ``of`` a saint.
_STREET = {"st": "street"}

# Words that carry no identity at all: dropped before names are compared, so that ``Parks``
# finds ``Parks Department`` and ``Boys & Girls Club`` is ``Boys and Girls Club``.
FILLER = frozenset(
    {
        "the", "of", "and", "for", "at", "in", "on", "a", "an",
        "department", "office", "services", "service", "program", "programs",
        "incorporated", "llc", "ltd", "corporation", "company", "organization",
    }
)  # fmt: skip
# Words many partners share (what kind of place it is): kept in the comparison of the whole
# name, but the rest -- the distinctive words -- must be close on their own too.
COMMON = frozenset(
    {
        "saint", "church", "school", "center", "pantry", "food", "bank", "clinic", "shelter",
        "house", "home", "club", "association", "society", "foundation", "community", "city",
        "county", "district", "public", "library", "council", "committee", "coalition",
        "alliance", "network", "group", "agency", "authority", "ministry", "ministries",
        "mission", "fellowship", "temple", "mosque", "synagogue", "parish", "chapel",
        "elementary", "middle", "high", "academy", "college", "university", "hospital",
        "neighborhood", "neighbourhood", "residents", "tenants", "watch", "youth", "senior",
        "seniors", "family", "families", "street", "avenue", "road", "boulevard", "united",
        "first", "new", "national", "international", "government", "project", "partnership",
        "outreach", "resource", "resources", "support", "care", "league", "union", "fund",
    }
)  # fmt: skip

_APOSTROPHES = re.compile(r"['\u2019\u2018`\u00b4]")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class Match:
    """A live partner whose name is close to the one typed (``score`` 0-100, best 100)."""

    id: str
    name: str
    score: float


def fold_name(name: str) -> str:
    """A name as compared: ``"St. Mary's"`` -> ``"saint marys"``, ``"Parks Dept"`` ->
    ``"parks department"``, ``"Boys & Girls Club"`` -> ``"boys and girls club"``."""
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("&", " and ").replace("+", " and ")
    text = _APOSTROPHES.sub("", text)
    words = _join_initials(_NOT_WORD.sub(" ", text).split())
    out: list[str] = []
    for word in words:
        if word in _STREET and out and out[-1] not in FILLER | COMMON:
            out.append(_STREET[word])
        else:
            out.append(ABBREVIATIONS.get(word, word))
    return " ".join(" ".join(out).split())


def _join_initials(words: list[str]) -> list[str]:
    """Runs of single letters are one word: ``Y.M.C.A.`` is ``ymca``."""
    out: list[str] = []
    run = ""
    for word in words:
        if len(word) == 1 and word.isalpha():
            run += word
            continue
        if run:
            out.append(run)
            run = ""
        out.append(word)
    if run:
        out.append(run)
    return out


def _is(word: str, vocabulary: frozenset[str]) -> bool:
    """``word`` is in ``vocabulary``, or a slip of one of its words (``departmnet``, ``pantyr``:
    one letter wrong, missing, extra or two swapped; in a four-letter word only a swap)."""
    if word in vocabulary:
        return True
    if len(word) == 4:  # only two letters swapped (``bnak``): ``good`` is no ``food``
        return any(
            len(k) == 4
            and sorted(k) == sorted(word)
            and sum(x != y for x, y in zip(k, word, strict=True)) == 2
            for k in vocabulary
        )
    if len(word) < 4:
        return False
    from rapidfuzz.distance import OSA

    return any(
        abs(len(word) - len(known)) <= 1 and OSA.distance(word, known, score_cutoff=1) <= 1
        for known in vocabulary
        if len(known) >= 5
    )


def _words(folded: str) -> tuple[str, str]:
    """The words compared (fillers gone) and the distinctive ones (common words gone too)."""
    words = [w for w in folded.split() if not _is(w, FILLER)] or folded.split()
    core = [w for w in words if not _is(w, COMMON)]
    return " ".join(words), " ".join(core)


def _close(a: str, b: str) -> float:
    """How close two word strings are: word order ignored, and spaces ignored
    (``eastside`` is ``east side``)."""
    from rapidfuzz import fuzz

    return float(
        max(fuzz.token_sort_ratio(a, b), fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")))
    )


def _within(short: str, long: str) -> bool:
    """Every word of ``short`` is a word of ``long`` (or a slip of one): ``Legal Aid`` in
    ``Legal Aid Society``, ``St. Mary's`` in ``St. Mary's Church``."""
    from rapidfuzz import fuzz

    words = long.split()
    return all(
        w in words or (len(w) >= 5 and any(fuzz.ratio(w, x) >= CUTOFF for x in words))
        for w in short.split()
    )


def _score_keys(a: tuple[str, str], b: tuple[str, str]) -> float:
    """The score of two names as :func:`_words` keys (see :func:`name_score`)."""
    (words_a, core_a), (words_b, core_b) = a, b
    whole = _close(words_a, words_b)
    if not core_a or not core_b:  # a name made of common words only: the whole name decides
        return whole  # (no slack: ``Food Bank`` vs ``Food Pantry`` is all there is)
    score = min(min(100.0, whole + WHOLE_SLACK), _close(core_a, core_b))
    if score < CUTOFF:
        # A shorter name that is all in the longer one, distinctive words and all, is worth
        # asking about: just at the cutoff, below any real near-identical name.
        short, long = sorted((words_a, words_b), key=len)
        if short != long and _within(short, long):
            score = CUTOFF
    return score


def name_score(a: str, b: str) -> float:
    """How close two partner names are, 0-100 (:data:`CUTOFF` and above: the same partner).

    The names are folded (:func:`fold_name`) and their filler words dropped (``the``,
    ``department``, ``inc`` ...). Then both the names so compared (within
    :data:`WHOLE_SLACK`) and their distinctive words (without the common words of partner
    names: ``church``, ``center``, ``saint``, ``food`` ...) must be close, by the best of
    rapidfuzz's ``token_sort_ratio`` and the ``ratio`` of the names without spaces. A name
    made only of common words is compared whole. A shorter name whose words are all in the
    longer one scores :data:`CUTOFF` (``Legal Aid`` for ``Legal Aid Society``)."""
    return _score_keys(_words(fold_name(a)), _words(fold_name(b)))


# Candidates a fast C scorer keeps before the full score is computed (a directory of
# thousands of names, an import of thousands of partners, stays quick).
_PREFILTER = 50.0


class NameIndex:
    """Partner names ready to compare (folded once): what an import checks each new partner
    against, the directory and the partners of the file before it."""

    def __init__(self, candidates: Iterable[tuple[str, str]] = ()) -> None:
        self.ids: list[str] = []
        self.names: list[str] = []
        self.keys: list[tuple[str, str]] = []
        for cid, cname in candidates:
            self.add(cid, cname)

    def add(self, cid: str, name: str) -> None:
        self.ids.append(cid)
        self.names.append(name)
        self.keys.append(_words(fold_name(name)))

    def closest(
        self,
        name: str,
        *,
        limit: int = 3,
        cutoff: float = CUTOFF,
        exclude: str | None = None,
    ) -> list[Match]:
        """The names close to ``name``, best first (ties in the order added)."""
        folded = fold_name(name)
        if not folded or not self.keys:
            return []
        from rapidfuzz import fuzz, process

        key = _words(folded)
        rough = process.extract(
            key[0],
            [k[0] for k in self.keys],
            scorer=fuzz.token_set_ratio,
            processor=None,
            limit=max(50, limit * 10),
            score_cutoff=_PREFILTER,
        )
        scored = []
        for _, _, i in rough:
            if self.ids[i] == exclude:
                continue
            score = _score_keys(key, self.keys[i])
            if score >= cutoff:
                scored.append((-score, i))
        scored.sort()
        return [
            Match(id=self.ids[i], name=self.names[i], score=round(-neg, 1))
            for neg, i in scored[:limit]
        ]


def closest(
    name: str, candidates: list[tuple[str, str]], *, limit: int = 3, cutoff: float = CUTOFF
) -> list[Match]:
    """The candidates (``(id, name)``) whose names are close to ``name``, best first (ties
    in the given order)."""
    if not fold_name(name) or not candidates:
        return []
    return NameIndex(candidates).closest(name, limit=limit, cutoff=cutoff)


def directory(store: Store) -> NameIndex:
    """Every live partner's name, ready to compare."""
    return NameIndex((str(r["id"]), str(r["name"])) for r in store.orgs.names())


def similar(store: Store, name: str, *, limit: int = 3, exclude: str | None = None) -> list[Match]:
    """Live partners whose names are close to ``name``, best first (``exclude``: an id left
    out, e.g. the partner being renamed)."""
    if not fold_name(name):
        return []
    rows = store.orgs.names()
    if not rows:
        return []  # an empty directory: rapidfuzz is not even imported
    return directory(store).closest(name, limit=limit, exclude=exclude)


# ---------------------------------------------------------------------- upkeep
def cold_since(text: str) -> str:
    """The stamp before which a partner's last contact makes it cold: ``60d``, ``8w``, a date
    (``2026-10-01``) or any WHEN ``--since`` takes, read the same way."""
    from fieldlog import dates

    when = dates.parse_when(text, field="cold")
    if when.at > dates.now():
        raise ValidationError(
            "cold", f"--cold {text.strip()} is in the future: give a past day or an age (60d, 8w)."
        )
    return dates.to_storage(when.at)


def days_since(stamp: str | None) -> int | None:
    """Calendar days from a stored stamp's local day to today (0: today; None: never)."""
    if not stamp:
        return None
    from fieldlog import dates

    day = dates.to_local(dates.from_storage(stamp)).date()
    return max(0, (dates.now_local().date() - day).days)


def with_days(rows: list[Row]) -> list[Row]:
    """Rows of partners with ``days_since_contact`` (None: never contacted)."""
    for r in rows:
        r["days_since_contact"] = days_since(r.get("last_contact_at"))
    return rows


def cold(store: Store, since: str, *, limit: int | None = None) -> list[Row]:
    """Active partners not contacted since ``since`` (as :func:`cold_since` reads it), never
    contacted first, then the longest silent: the relationships about to lapse."""
    return with_days(store.orgs.cold(cold_since(since), limit=limit))


def upkeep(store: Store, *, limit: int | None = None, **filters: str | None) -> list[Row]:
    """Every live partner with its upkeep figures (``org list``'s rows), by name."""
    return with_days(store.orgs.list(limit=limit, **filters))


# ---------------------------------------------------------------------- merge
# Fields a merge never fills from the partner folded in: the kept partner's own.
_OWN = ("name", "status")


@dataclass
class MergePlan:
    """What ``org merge`` does: ``keep`` takes ``values`` (its empty fields filled from
    ``fold``, services joined); the ``contacts`` and ``referrals`` naming ``fold`` move to
    ``keep``; ``fold`` is tombstoned. ``dropped``: ``fold``'s values that ``keep`` had its
    own for (said, not lost: the tombstone keeps them, and the audit history shows them)."""

    keep: Row
    fold: Row
    values: dict[str, Any] = field(default_factory=dict)
    contacts: list[str] = field(default_factory=list)
    referrals: list[str] = field(default_factory=list)
    dropped: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kept": {"id": self.keep["id"], "name": self.keep["name"]},
            "merged": {"id": self.fold["id"], "name": self.fold["name"]},
            "contacts_moved": len(self.contacts),
            "referrals_moved": len(self.referrals),
            "filled": sorted(self.values),
            "dropped": self.dropped,
        }


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def plan_merge(store: Store, keep: str, fold: str) -> MergePlan:
    """The merge of partner ``fold`` into partner ``keep`` (names or id prefixes), unwritten."""
    from fieldlog import models, records

    a, b = store.orgs.get(keep), store.orgs.get(fold)
    if a["id"] == b["id"]:
        raise ValidationError(
            "partner", f"'{keep}' and '{fold}' are the same partner ({a['short_id']})."
        )
    plan = MergePlan(keep=a, fold=b)
    for f in records.TABLE_FIELDS["organizations"]:
        mine, theirs = a.get(f), b.get(f)
        if f in _OWN or _empty(theirs) or mine == theirs:
            continue
        if f == "services":
            have = list(mine or [])
            plan.values[f] = [*have, *(s for s in theirs or [] if s not in have)]
        elif f == "kind" and mine == "other":
            plan.values[f] = theirs
        elif f == "notes" and not _empty(mine):
            joined = f"{mine}\n\n{b['name']}: {theirs}"
            if len(joined) <= models.MAX_TEXT:
                plan.values[f] = joined
            else:
                plan.dropped[f] = theirs
        elif _empty(mine):
            plan.values[f] = theirs
        else:
            plan.dropped[f] = theirs
    plan.contacts, plan.referrals = store.orgs.linked(b["id"])
    return plan


def merge(store: Store, keep: str, fold: str) -> MergePlan:
    """Fold partner ``fold`` into partner ``keep`` (see :class:`MergePlan`), in one
    transaction of the one write path: synced field by field and audited."""
    plan = plan_merge(store, keep, fold)
    store.orgs.merge(plan.keep["id"], plan.fold["id"], plan.values, plan.contacts, plan.referrals)
    return plan


# ---------------------------------------------------------------------- display (plain text)
# The upkeep columns of ``org list`` and ``fieldlog partners`` on screen: ``(key, heading)``
# pairs of :func:`display` keys, short enough that a list fits 80 columns.
UPKEEP_COLUMNS = [
    ("last_contact", "Last contact"),
    ("contacts_90d", "C 90d"),
    ("referrals_90d", "R 90d"),
    ("open_referrals", "Open"),
    ("verified", "Verified"),
]
UPKEEP_LEGEND = (
    "C 90d / R 90d: contacts with the partner / referrals to it in the last 90 days; "
    "Open: referrals not closed; Verified: details checked within a year."
)


def last_contact_text(row: Row) -> str:
    """``2026-11-20 (12 days ago)``, ``today``, or ``never``."""
    stamp = row.get("last_contact_at")
    if not stamp:
        return "never"
    from fieldlog import dates

    days = days_since(stamp)
    day = dates.show_local(stamp)[:10]
    ago = "today" if days == 0 else "1 day ago" if days == 1 else f"{days} days ago"
    return f"{day} ({ago})"


def display(row: Row) -> Row:
    """A partner row with the upkeep figures as a list shows them: the last contact's local
    day (``never``), verified ``yes``/``no``."""
    out = dict(row)
    stamp = row.get("last_contact_at")
    if stamp:
        from fieldlog import dates

        out["last_contact"] = dates.show_local(stamp)[:10]
    else:
        out["last_contact"] = "never"
    out["verified"] = "yes" if row.get("verified_within_year") else "no"
    days = row.get("days_since_contact", days_since(stamp))
    out["silent"] = "never" if days is None else str(days)
    return out

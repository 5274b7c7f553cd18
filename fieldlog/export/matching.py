"""Text matching for ``--redact`` (:mod:`fieldlog.export.scrub`): folding (lower case,
accents off, one character for one, so a span of the folded text is the same span of the
original), words as regular-expression atoms, a trie of many phrases as one pattern, phone
numbers, e-mail addresses, and the small scans around a name (initials, honorifics).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from fieldlog.export.words import FILLERS, HONORIFICS

APOSTROPHES = "'’‘`´ʼʻ′"
DASHES = "‐‑‒–—―−"
# Letters that do not decompose into a base letter and an accent.
OWN_LETTERS = {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ı": "i", "ħ": "h", "ŀ": "l", "ŧ": "t"}
MASK = "\x00"  # stands for a span already dealt with (not a letter: a word boundary)
NOT_LETTER_BEFORE = r"(?<![^\W\d_])"
AFTER_WORD = r"(?![^\W\d_])"
APOS = "(?:['`] ?| )?"  # an apostrophe, a space or nothing: O'Brien, O' Brien, O Brien, OBrien
WS = r"\s+"
# Scripts written without spaces between words: a name part in them is found anywhere.
UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
WORD = re.compile(r"[^\W\d_]+(?:['`][^\W\d_]+)*")


def _fold_char(ch: str) -> str:
    if ch in APOSTROPHES:
        return "'"
    if ch in DASHES:
        return "-"
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if len(base) != 1:
        base = ch
    low = base.lower()
    if len(low) != 1:
        low = ch.lower() if len(ch.lower()) == 1 else ch
    return OWN_LETTERS.get(low, low)


class _FoldTable(dict[int, str]):
    """``str.translate`` table, filled a character at a time as texts bring new ones."""

    def __missing__(self, code: int) -> str:
        got = self[code] = _fold_char(chr(code))
        return got


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Lower case, accents off, apostrophes and dashes made plain; same length as ``text``
    (a character that would become two, like ``ß``, stays as it is)."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD)


def nfc(text: str) -> str:
    """The composed form (``a`` + combining accent -> ``á``), so folding sees whole letters;
    an accent that composes with nothing (``i̇``, from lower-casing ``İ``) is left out, or it
    would cut the word in two."""
    if text.isascii():
        return text
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if COMBINING.search(text):
        text = COMBINING.sub("", text)
    return text


def canon(folded: str) -> str:
    """A part's key: its letters only (``o'brien``, ``o brien``, ``obrien`` -> ``obrien``)."""
    if folded.isalpha():
        return folded
    return "".join(WORD.findall(folded)).replace("'", "").replace("`", "")


def name_words(name: str) -> list[tuple[str, str]]:
    """The words of a stored name as (folded, as written), without a leading honorific and
    without fillers ("Dr. Anika Patel" -> anika, patel; "Nguyen-Smith" -> nguyen, smith)."""
    written = nfc(name)
    folded = fold(written)
    words = [(m.group(), written[m.start() : m.end()]) for m in WORD.finditer(folded)]
    while len(words) > 1 and words[0][0] in HONORIFICS:
        words.pop(0)
    return [w for w in words if w[0] not in FILLERS] or words


def atoms(folded: str) -> list[str]:
    """A folded text as regular-expression pieces: letters as themselves, an apostrophe as
    :data:`APOS`, any spacing as ``\\s+``."""
    if folded.isalnum():
        return list(folded)  # (most names: letters need no escaping)
    out: list[str] = []
    for ch in folded:
        if ch.isalnum():
            out.append(ch)
        elif ch in "'`":
            if out and out[-1] != APOS:
                out.append(APOS)
        elif ch.isspace():
            if out and out[-1] != WS:
                out.append(WS)
        else:
            out.append(re.escape(ch))
    return out


def trie_pattern(words: Iterable[list[str]], *, before: str, after: str) -> str | None:
    """One alternation of many phrases (lists of atoms) as a trie: ``(?:a(?:na|nn)|b...)``,
    for the partners' and neighborhoods' names and names in unspaced scripts. The engine
    then tests one character per branch where a plain ``ana|ann|b...`` would test every
    phrase at every position. ``before`` is asserted after the first atom (so the pattern
    still starts with a literal, which lets the engine skip ahead), ``after`` once at the
    end: longer phrases come first, and the engine backtracks to a shorter one when
    ``after`` fails ("ana" in "ana bel" after "anabel" failed)."""
    root: dict[str, dict] = {}
    for word in words:
        if not word:
            continue
        node = root
        for a in word:
            node = node.setdefault(a, {})
        node[""] = {}
    if not root:
        return None

    def emit(node: dict[str, dict], first: bool) -> str:
        alts = [
            a + (before if first else "") + emit(child, False)
            for a, child in sorted(node.items())
            if a
        ]
        if "" in node:
            if not alts:
                return ""
            return "(?:" + "|".join(alts) + ")?"
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return "(?:" + emit(root, True) + ")" + after


BEFORE_WORD = r"(?<![^\W\d_].)"  # after a word's first letter: no letter before that one
BEFORE_ALNUM = r"(?<![^\W_].)"
GAP = re.compile(r"(?:[\s-]|[^\W\d_]\.|(?<![^\W\d_])[^\W\d_](?=[\s-]))*\Z")
GAP_INITIAL = re.compile(NOT_LETTER_BEFORE + r"[^\W\d_](?![.\w])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Dates and year ranges first: they look like numbers but stay ("2026-11-24", "2019-2024").
_DATE = (
    r"\d{4}-\d\d-\d\d(?:[t ]\d\d:\d\d(?::\d\d)?)?(?!\d|[./-]\d)"
    r"|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}(?!\d|[./-]\d)"
    r"|(?:19|20)\d\d[ \t]?[-/][ \t]?(?:19|20)\d\d(?!\d|[./-]\d)"
)
_GROUP = r"(?:\(\d{1,6}\)|\d+)"
_SEP = r"(?:[ \t]?[.\-/][ \t]?|[ \t]|(?<=\))|(?=\())"
PHONE = re.compile(
    rf"(?P<date>{_DATE})"
    rf"|(?P<phone>(?:\+[ \t]?)?{_GROUP}(?:{_SEP}{_GROUP})*"
    r"(?:[ \t]*(?:extension|ext\.?|x|\#)(?:[ \t]*\d{1,6})?)?)"
)
LETTERS = re.compile(r"[^\W\d_]+")
ALNUM = re.compile(r"[^\W_]+")
ANY_DIGIT = re.compile(r"\d")
# Plain ASCII text with every byte but a letter made a space (bytes.translate: C speed).
SPACE_NOT_LETTERS = bytes(c if chr(c).isalpha() else 32 for c in range(128)) + b" " * 128
DIGIT_RUN = re.compile(r"\d[\d \t().\-/]{5,}\d")  # where a phone may be: 7+ digit-like
PHONE_DIGITS = 7  # a run of this many digits or more (with spaces, dots, dashes) is a phone


def phones(folded: str) -> list[tuple[int, int]]:
    """Phone numbers in a folded text: each run of 7+ digit-like characters (found at C
    speed) read again with :data:`PHONE` from just before it (a ``+`` or ``(``) to just
    after it (an extension). Dates and year ranges in the run stay."""
    found: list[tuple[int, int]] = []
    at = 0
    while m := DIGIT_RUN.search(folded, at):
        start = m.start()
        while start > at and folded[start - 1] in "+( \t" and start > m.start() - 3:
            start -= 1
        end = min(len(folded), m.end() + 16)
        for p in PHONE.finditer(folded, start, end):
            if p.group("phone") and sum(c.isdigit() for c in p.group()) >= PHONE_DIGITS:
                found.append((p.start(), p.end()))
                at = max(at, p.end())
        at = max(at, m.end())
    return found


def heads(form: str) -> set[str]:
    """The words of a text that may begin the name part ``form`` joined with the next word:
    the pieces before its apostrophes (``o'brien``: ``o``), and a leading o or d however it
    was stored (``okafor`` is also written O'Kafor, O Kafor)."""
    pieces = LETTERS.findall(form)
    out = set(pieces[:-1])
    if len(form) >= 4 and form[0] in "od":
        out.add(form[0])
    return out


def name_start(text: str, folded: str, start: int) -> int:
    """Where a name that starts at ``start`` really starts: before the initials (``J. R.``)
    and the honorific (``Mrs``, ``Dr.``) just before it, across spacing and a line break."""
    lead = start
    while True:
        j = lead
        while j > 0 and lead - j < 6 and folded[j - 1] in " \t\r\n":
            j -= 1
        dot = j > 0 and folded[j - 1] == "."
        if dot:
            j -= 1
        if j == lead:
            return lead  # nothing between: no word of its own
        i = j
        while i > 0 and folded[i - 1].isalpha():
            i -= 1
        word = folded[i:j]
        if len(word) == 1 and (dot or (text[i].isupper() and text[i] != "I")):
            lead = i  # an initial: "J." or "J"; look further back
        elif word in HONORIFICS:
            return i
        else:
            return lead


def initial(text: str, at: int) -> bool:
    """A lone letter is an initial with a dot after it, or a capital that is not "I"."""
    if text[at + 1 : at + 2] == ".":
        return True
    return text[at].isupper() and text[at] != "I"


def masked(folded: str, spans: list[tuple[int, int, str]]) -> str:
    out: list[str] = []
    at = 0
    for start, end, _ in sorted(spans):
        out.append(folded[at:start])
        out.append(MASK * (end - start))
        at = end
    out.append(folded[at:])
    return "".join(out)

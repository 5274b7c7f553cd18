"""Free text with every known name, phone number, e-mail address and personal value taken
out, for ``--redact`` (:class:`~fieldlog.export.redact.Redactor`; docs/export.md).

One :class:`Scrubber` is built per export from the log's names and values: dictionaries of
their words (20,000 people take under a second to set up) and a few patterns, run
over the cell folded to lower case without accents. The folding keeps every character in
its place (one for one), so a span of the folded text is the same span of the original. A
plain-ASCII cell without any word a name or a value needs passes after one C-speed split.

How a name is found: each part of each known name (``Siobhán O'Brien``: ``siobhan``,
``obrien``) is a whole word, any case, any accents (``Siobhan``), any apostrophe or none
(``O'Brien``, ``O’Brien``, ``OBrien``, ``O Brien``). Parts next to each other (any spacing,
line breaks, hyphens, middle initials) are one name, and an honorific (``Mrs``, ``Dr.``) or
initials (``J.``) just before it go with it. A name that fits one known person becomes that
person's pseudonym; a part that several people share becomes ``[name]``. See
:mod:`fieldlog.export.words` for the few words that stay when they stand alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from fieldlog.export.matching import (
    AFTER_WORD,
    ALNUM,
    ANY_DIGIT,
    BEFORE_WORD,
    DIGIT_RUN,
    EMAIL,
    GAP,
    GAP_INITIAL,
    LETTERS,
    SPACE_NOT_LETTERS,
    UNSPACED,
    WORD,
    atoms,
    canon,
    fold,
    heads,
    initial,
    masked,
    name_start,
    name_words,
    nfc,
    phones,
    trie_pattern,
)
from fieldlog.export.words import COMMON_WORDS, PARTICLES

REDACTED = "[redacted]"
NAME_MARK = "[name]"
_APOSTROPHE_GAPS = frozenset({"'", "' ", " ", "`", "` "})


def _outer(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Spans that overlap none kept before them (an address inside an e-mail: the e-mail)."""
    out: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda x: (x[0], -x[1])):
        if not out or span[0] >= out[-1][1]:
            out.append(span)
    return out


class Scrubber:
    """The matchers of one export: built once from the log's names and values, then
    :meth:`scrub` per cell.

    ``names``: every known person name; ``values``: other personal values (addresses,
    phones) found as written; ``keep``: public names (partners, neighborhoods) whose common
    words stay; ``pseudonym``: a person's replacement, from their :meth:`person_key`.
    """

    def __init__(
        self,
        names: Iterable[str],
        values: Iterable[str] = (),
        keep: Iterable[str] = (),
        pseudonym: Callable[[str], str] | None = None,
    ) -> None:
        self.pseudonym = pseudonym or (lambda key: NAME_MARK)
        self._persons: dict[str, set[str]] = {}  # part -> the keys of the people who have it
        self._cache: dict[tuple[str, ...], str] = {}  # parts -> their replacement
        self._fitting: dict[tuple[str, ...], set[str]] = {}  # parts -> who has them all
        forms: dict[str, set[str]] = {}  # part key -> its folded spellings
        strong: set[str] = set()
        for name in set(names):
            key, parts = self._parse(name, forms, strong)
            for part in parts:
                self._persons.setdefault(part, set()).add(key)
        self._weak = {k for k in forms if k in PARTICLES and k not in strong}
        self._common = {k for k in forms if k in COMMON_WORDS}
        # Each part by its letters (o'brien -> obrien): a word of a text, or two words with
        # an apostrophe or a space between (O'Brien, O Brien), is looked up here. "The
        # Okafors": a plural is the name too, unless it is a word ("Parks" when someone is
        # Park) or another part.
        spaced = [k for k in forms if not UNSPACED.search(k)]
        self._parts = {k: k for k in spaced}
        for k in spaced:
            if len(k) >= 3 and k not in COMMON_WORDS and not k.endswith("s"):
                self._parts.setdefault(k + "s", k)
        # Pieces joined with the next word (o'brien: o), which alone are no part.
        self._heads = {h for f in (f for fs in forms.values() for f in fs) for h in heads(f)}
        unspaced = [k for k in forms if UNSPACED.search(k)]
        pat = trie_pattern(map(atoms, unspaced), before="", after="")
        self._unspaced = re.compile(pat) if pat else None
        # Personal values as their words (12 wharf rd), by their first word.
        self._values: dict[str, list[tuple[str, ...]]] = {}
        personal = {v for v in (fold(nfc(x)).strip() for x in values) if self._personal(v)}
        for v in personal:
            words = tuple(ALNUM.findall(v))
            if words:
                self._values.setdefault(words[0], []).append(words)
        for entries in self._values.values():
            entries.sort(key=len, reverse=True)
        # The words that must be in a plain-ASCII cell for a name or a value to be in it: a
        # cell without one of them is let through after one C-speed split (most cells).
        tails = {p[len(h) :] for p in self._parts for h in self._heads if p.startswith(h)}
        self._name_words = {w.encode() for w in (*self._parts, *tails) if w and w.isascii()}
        self._value_words: set[bytes] = set()
        self._digit_values = False
        for v in personal:
            letters = [w for w in LETTERS.findall(v) if w.isascii()]
            if letters:
                self._value_words.add(max(letters, key=len).encode())
            else:
                self._digit_values = True  # a value without letters: any digit may be it
        public = {k for k in (fold(nfc(x)).strip() for x in keep) if self._public(k)}
        self._keep = self._phrases(public, before=BEFORE_WORD, after=AFTER_WORD)

    @staticmethod
    def _parse(name: str, forms: dict[str, set[str]], strong: set[str]) -> tuple[str, set[str]]:
        """A stored name's key (its parts in order) and every part it may be found by."""
        key: list[str] = []
        found: set[str] = set()

        def add(k: str, form: str, written: str) -> None:
            found.add(k)
            forms.setdefault(k, set()).add(form)
            if written[:1].isupper():
                strong.add(k)

        words = name_words(name)
        for i, (folded, written) in enumerate(words):
            k = canon(folded)
            if k in ("o", "d") and i + 1 < len(words):
                # "O Brien" is O'Brien; "Ó Súilleabháin" is also written "Súilleabháin".
                joined = k + canon(words[i + 1][0])
                key.append(joined)
                add(joined, joined, written)
                continue
            if len(k) < 2 and not UNSPACED.search(k):
                continue  # an initial: found only next to a part of the name
            if not (i and canon(words[i - 1][0]) in ("o", "d") and len(words[i - 1][0]) == 1):
                key.append(k)
            add(k, folded, written)
        return " ".join(key) or " ".join(fold(name).split()), found

    def person_key(self, name: str) -> str:
        """The key a name's pseudonym is made from: its parts, folded (so "Siobhán O'Brien"
        and "siobhan obrien" are one person)."""
        return self._parse(name, {}, set())[0]

    @staticmethod
    def _personal(value: str) -> bool:
        # An address or a phone holds a digit; a one-word place ("park") names nobody.
        return len(value) >= 4 and (any(c.isdigit() for c in value) or len(value.split()) > 1)

    def _public(self, phrase: str) -> bool:
        # A partner's or a neighborhood's name shields the common words in it ("Grace
        # Community Church" when someone is called Grace), never a rarer name part.
        keys = [canon(w) for w in WORD.findall(phrase)]
        names = [k for k in keys if k in self._persons]
        return (
            len(phrase) >= 4
            and len(names) < len(keys)
            and all(k in self._common or k in self._weak for k in names)
        )

    @staticmethod
    def _phrases(phrases: Iterable[str], *, before: str, after: str) -> re.Pattern[str] | None:
        pat = trie_pattern((atoms(p) for p in set(phrases)), before=before, after=after)
        return re.compile(pat) if pat else None

    # ------------------------------------------------------------------ scrubbing
    def scrub(self, text: str, *, tag: bool = False) -> str:
        """``text`` with known values, e-mails and phones as ``[redacted]`` and names as a
        pseudonym or ``[name]``. ``tag``: a tag's words, whose case is lost, count as names
        even when they are common words."""
        if not text:
            return text
        text = nfc(text)
        folded = fold(text)
        names = values = True
        words: set[bytes] | None = None
        if folded.isascii():
            words = set(folded.encode().translate(SPACE_NOT_LETTERS).split())
            names = not self._name_words.isdisjoint(words)
            values = not self._value_words.isdisjoint(words) or (
                self._digit_values and ANY_DIGIT.search(folded) is not None
            )
        spans: list[tuple[int, int, str]] = []
        found = self._value_spans(folded) if values and self._values else []
        if "@" in folded:
            found += [(m.start(), m.end(), REDACTED) for m in EMAIL.finditer(folded)]
        if found:
            found = _outer(found)
            spans += found
            folded = masked(folded, found)
        if DIGIT_RUN.search(folded):
            found = [(a, b, REDACTED) for a, b in phones(folded)]
            if found:
                spans += found
                folded = masked(folded, found)
        if names:
            spans += self._name_spans(text, folded, tag)
        if not spans:
            return text
        spans.sort()
        out: list[str] = []
        at = 0
        for start, end, repl in spans:
            out.append(text[at:start])
            out.append(repl)
            at = end
        out.append(text[at:])
        return "".join(out)

    def _value_spans(self, folded: str) -> list[tuple[int, int, str]]:
        """The log's personal values written in the text, word for word (any punctuation
        or spacing between the words: "12 Wharf Rd", "12, wharf rd.")."""
        toks = [(m.start(), m.end(), m.group()) for m in ALNUM.finditer(folded)]
        found = []
        k = 0
        while k < len(toks):
            for words in self._values.get(toks[k][2], ()):
                last = k + len(words) - 1
                if last < len(toks) and all(
                    toks[k + n][2] == w and toks[k + n][0] - toks[k + n - 1][1] <= 4
                    for n, w in enumerate(words[1:], 1)
                ):
                    found.append((toks[k][0], toks[last][1], REDACTED))
                    k = last
                    break
            k += 1
        return found

    def _name_spans(self, text: str, folded: str, tag: bool) -> list[tuple[int, int, str]]:
        hits: list[tuple[int, int, str]] = []  # (start, end, part)
        parts, heads = self._parts, self._heads
        head: re.Match[str] | None = None  # the word before, when it may begin a part
        for m in LETTERS.finditer(folded):
            t = m.group()
            if head is not None:
                joined = parts.get(head.group() + t)
                if joined is not None and folded[head.end() : m.start()] in _APOSTROPHE_GAPS:
                    if hits and hits[-1][0] == head.start():
                        hits.pop()  # ("o" was a part on its own)
                    hits.append((head.start(), m.end(), joined))  # O'Brien, O Brien
                    head = None
                    continue
            part = parts.get(t)
            if part is not None:
                hits.append((m.start(), m.end(), part))
            head = m if t in heads else None
        if self._unspaced is not None and not folded.isascii():
            hits += [(m.start(), m.end(), m.group()) for m in self._unspaced.finditer(folded)]
            hits.sort()
        if not hits:
            return []
        if self._keep is not None and self._keep.search(folded):
            # Inside a partner's or a neighborhood's name ("Grace Community Church"), stay.
            kept = [(m.start(), m.end()) for m in self._keep.finditer(folded)]
            hits = [h for h in hits if not any(s <= h[0] and h[1] <= e for s, e in kept)]
            if not hits:
                return []
        spans = []
        group = [(hits[0][0], hits[0][1])]
        keys = [hits[0][2]]
        for start, end, part in hits[1:]:
            # One name: parts side by side, each once, that one person at least has all of
            # ("Chidi Okafor Wei Ng" is two people, a list of names one a line stays a list).
            if (
                not any(part in (x, x[1:]) or x == part[1:] for x in keys)  # (O')Brien twice
                and self._joined(text, folded, group[-1][1], start)
                and self._fits((*keys, part))
            ):
                group.append((start, end))
                keys.append(part)
            else:
                spans += self._group(text, folded, group, tuple(keys), tag)
                group, keys = [(start, end)], [part]
        spans += self._group(text, folded, group, tuple(keys), tag)
        return spans

    @staticmethod
    def _joined(text: str, folded: str, end: int, start: int) -> bool:
        """Whether two parts make one name: only spacing, hyphens and initials between."""
        if start < end or start - end > 12:
            return False
        if start == end:
            return bool(UNSPACED.match(folded, start))
        if folded[end:start] == " ":
            return True
        if not GAP.match(folded, end, start):
            return False
        return all(initial(text, m.start()) for m in GAP_INITIAL.finditer(folded, end, start))

    def _group(
        self,
        text: str,
        folded: str,
        group: list[tuple[int, int]],
        keys: tuple[str, ...],
        tag: bool,
    ) -> list[tuple[int, int, str]]:
        start, end = group[0][0], group[-1][1]
        lead = name_start(text, folded, start)
        who = self._who(keys)
        if lead == start and not self._named(keys, who, text, group, tag):
            return []
        return [(lead, end, who)]

    def _named(
        self, keys: tuple[str, ...], who: str, text: str, group: list[tuple[int, int]], tag: bool
    ) -> bool:
        """Whether parts with nothing before them are a name: not particles alone ("de la"),
        nor common words in lower case (unless one person has them all: "grace hope")."""
        if all(k in self._weak for k in keys):
            return False
        if len(set(keys)) > 1 and who != NAME_MARK:
            return True
        for k, (s, e) in zip(keys, group, strict=True):
            if k in self._weak:
                continue
            if k in self._common and not tag and text[s:e].islower():
                continue
            return True
        return False

    def _fits(self, keys: tuple[str, ...]) -> set[str]:
        """The people whose names have all these parts."""
        got = self._fitting.get(keys)
        if got is None:
            got = set.intersection(*(self._persons.get(k, set()) for k in keys))
            if len(self._fitting) > 50_000:
                self._fitting.clear()
            self._fitting[keys] = got
        return got

    def _who(self, keys: tuple[str, ...]) -> str:
        """The pseudonym of the one person these parts fit (of several, the one whose name
        is just these parts: "Mr Okafor" is Okafor, not Chidi Okafor), else ``[name]``."""
        got = self._cache.get(keys)
        if got is None:
            fits = self._fits(keys)
            if len(fits) > 1:
                fits = {p for p in fits if set(p.split()) == set(keys)}
            got = self.pseudonym(next(iter(fits))) if len(fits) == 1 else NAME_MARK
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[keys] = got
        return got

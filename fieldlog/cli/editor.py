"""Text from outside the command line: ``fieldlog edit ID`` in ``$EDITOR``, ``add -`` from stdin.

``edit ID`` with no options opens the contact in the editor as ``key: value`` lines.

Like ``git commit`` and ``crontab -e``: the record is written to a file, the officer's editor
opens it (``VISUAL``, else ``EDITOR``, else Notepad on Windows and ``vi`` elsewhere), and what
changed when it closes is applied through the same store call as ``edit --summary ...``, so
every rule is the same. Lines starting with ``#`` are instructions; everything after the
``notes:`` line is the notes. Nothing typed is ever lost: when a value is refused, the file is
kept (and on a terminal the editor can open again on it) and its path is printed.

The file holds the record in clear text, so for an encrypted log it goes only to a
memory-backed folder (:meth:`fieldlog.db.store.Store.scratch_dir`); where there is none, the
editor is refused and the options are the way to edit. Part of the CLI's lowest layer: it
imports :mod:`fieldlog.cli.common` and no other command module.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from fieldlog.errors import FieldlogError, StorageError, ValidationError

if TYPE_CHECKING:
    from fieldlog.db.store import Row, Store

# label in the file -> the edit option's key (what ``fieldlog edit --x`` passes to the store)
FIELDS = {
    "summary": "summary",
    "when": "occurred_at",
    "kind": "kind",
    "person": "person_name",
    "organization": "organization",
    "neighborhood": "neighborhood",
    "beat": "beat",
    "location": "location",
    "tags": "tags",
    "follow up": "follow_up_on",
}
NOTES = "notes"
ERROR_MARK = "# Error: "


def editor_command() -> str:
    """The editor to run: ``VISUAL``, then ``EDITOR``, then the system's plain one."""
    for name in ("VISUAL", "EDITOR"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return "notepad" if sys.platform == "win32" else "vi"


def wanted() -> bool:
    """Whether ``edit ID`` without options opens an editor: on a terminal, or when the
    officer named one (a script with ``EDITOR`` set, as git does)."""
    named = any(os.environ.get(n, "").strip() for n in ("VISUAL", "EDITOR"))
    return named or (sys.stdin.isatty() and sys.stdout.isatty())


def launch(path: Path) -> None:
    """Run the editor on ``path`` and wait for it to close. The command may carry options
    (``code --wait``, ``"C:\\Program Files\\Notepad++\\notepad++.exe" -multiInst``): a shell
    reads it, as git and Click do."""
    cmd = editor_command()
    try:
        if sys.platform == "win32":
            code = subprocess.call(f'{cmd} "{path}"', shell=True)  # the officer's own command
        else:
            code = subprocess.call(["/bin/sh", "-c", f'{cmd} "$@"', cmd, str(path)])
    except OSError as exc:
        raise FieldlogError(
            f"Could not start the editor '{cmd}' ({exc.strerror or exc}): set VISUAL or EDITOR "
            "to your editor, or change fields with options (fieldlog edit -h)."
        ) from None
    if code != 0:
        raise FieldlogError(
            f"The editor '{cmd}' stopped with exit code {code}, so nothing was changed: set "
            "VISUAL or EDITOR to your editor, or change fields with options (fieldlog edit -h)."
        )


# ---------------------------------------------------------------------- the text
def contact_text(c: Row) -> str:
    """A contact as the file shows it (what :func:`parse` reads back)."""
    from fieldlog import dates, models

    values = shown(c)
    lines = [
        f"# Contact {c['short_id']}: change the values after the colons, save, close the editor.",
        "# A value left empty is cleared. Lines starting with # are ignored; the notes are",
        "# everything after the notes: line.",
        f"# kind: {', '.join(models.CONTACT_KINDS)}.",
        "# when: YYYY-MM-DD HH:MM or words ('yesterday 14:30'); follow up: a day ('friday').",
    ]
    for k in c.get("concerns") or []:
        lines.append(f"# concern {k['short_id']} ({k['category']}, {k['status']}): "
                     f"{_one_line(k['description'])}")  # fmt: skip
    for r in c.get("referrals") or []:
        lines.append(f"# referral {r['short_id']} to {_one_line(r['agency'])} ({r['status']})")
    if c.get("concerns") or c.get("referrals"):
        lines.append("# (concerns and referrals: fieldlog concern update ID, referral update ID)")
    lines.append(f"# officer {c['officer']}, logged {dates.show_local(c['created_at'])}")
    lines.append("")
    lines += [f"{label}: {values[label]}".rstrip() for label in FIELDS]
    lines += ["", f"{NOTES}:", values[NOTES]]
    return "\n".join(lines).rstrip("\n") + "\n"


def _one_line(value: Any) -> str:
    from fieldlog.text import printable

    return printable(" ".join(str(value or "").split()), newlines=False)


def shown(c: Row) -> dict[str, str]:
    """Each label's text for contact ``c`` (the file shows these; unchanged ones are kept)."""
    from fieldlog import dates

    return {
        "summary": c["summary"] or "",
        "when": dates.show_local(c["occurred_at"]),
        "kind": c["kind"] or "",
        "person": c["person_name"] or "",
        "organization": c.get("organization_name") or "",
        "neighborhood": c["neighborhood"] or "",
        "beat": c["beat"] or "",
        "location": c["location"] or "",
        "tags": ", ".join(c["tags"] or []),
        "follow up": c["follow_up_on"] or "",
        NOTES: (c["notes"] or "").rstrip(),
    }


def parse(text: str) -> dict[str, str]:
    """The ``label: value`` lines and the notes of an edited file; ValidationError for a line
    that is not one (a label changed, a colon lost)."""
    out: dict[str, str] = {}
    lines = text.splitlines()
    for n, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        label, colon, value = stripped.partition(":")
        label = " ".join(label.replace("_", " ").replace("-", " ").lower().split())
        if not colon or (label not in FIELDS and label != NOTES):
            raise ValidationError(
                "edit",
                f"Line {n} of the file ('{_one_line(stripped)[:40]}') is not 'label: value' "
                f"with one of the labels {', '.join([*FIELDS, NOTES])}: keep the labels as "
                "they were.",
            )
        if label in out:
            raise ValidationError("edit", f"Line {n}: '{label}' is in the file twice.")
        if label == NOTES:
            rest = [value.strip()] if value.strip() else []
            out[NOTES] = "\n".join([*rest, *lines[n:]]).strip("\n").rstrip()
            break
        out[label] = value.strip()
    return out


def changes(before: dict[str, str], after: dict[str, str]) -> dict[str, Any]:
    """What the officer changed, as ``fieldlog edit``'s options pass it to the store (a label
    missing from the file is left as it is)."""
    from fieldlog import models

    values: dict[str, Any] = {}
    for label, text in after.items():
        if text == before.get(label, ""):
            continue
        key = FIELDS.get(label, "notes")
        if key == "organization":
            if text:
                values["organization"] = text
            else:
                values["organization_id"] = None
        elif key == "tags":
            values["tags"] = models.tag_list([text])
        elif key == "follow_up_on":
            values[key] = text or "none"
        else:
            values[key] = text
    return values


# ---------------------------------------------------------------------- the round
def _scratch(store: Store) -> str | None:
    """Where the file may go: the temp folder for a plain log, a memory-backed one for an
    encrypted log (nothing in clear on the disk); refused when an encrypted log has none."""
    folder = store.scratch_dir()
    if store.encrypted and folder is None:
        raise StorageError(
            "This log is encrypted and this computer has no memory-backed folder for the "
            "editor's file (the record would be on the disk in clear): change fields with "
            "options instead, e.g. fieldlog edit ID --summary '...'."
        )
    return folder


def edit_in_editor(store: Store, ref: str) -> Row | None:
    """Open the contact ``ref`` in the editor and apply what changed; returns the contact
    as updated, or None when nothing changed (then nothing is written)."""
    c = store.contacts.get(ref)
    before = shown(c)

    def apply(text: str) -> Row | None:
        values = changes(before, parse(text))
        return store.contacts.update(c["id"], values) if values else None

    return _edit(store, f"contact-{c['short_id']}", contact_text(c), apply)


def edit_text(
    store: Store, text: str, *, name: str, intro: str, apply: Callable[[str], Row]
) -> Row | None:
    """Free text (a problem's plan) in the editor: ``text`` under ``# intro`` lines; when
    the editor closes, what it holds (the ``#`` lines left out) goes to ``apply``, whose
    result is returned; None when nothing changed (nothing is written). As for a contact,
    a refused text is kept in its file (or the editor opens again on a terminal)."""
    original = "".join(f"# {line}\n" for line in intro.splitlines()) + "\n" + text.rstrip()

    def body_of(written: str) -> Row | None:
        body = "\n".join(ln for ln in written.splitlines() if not ln.startswith("#")).strip()
        return None if body == text.strip() else apply(body)

    return _edit(store, name, original.rstrip("\n") + "\n", body_of)


def _edit(store: Store, name: str, original: str, apply: Callable[[str], Row | None]) -> Row | None:
    """The editor loop both use: ``original`` in a scratch file, the editor launched, what
    it saved given to ``apply``. A refused text opens the editor again on a terminal (the
    error at its top), or is kept in its file with the error; a failed editor keeps what was
    typed. The file goes when nothing needs keeping."""
    fd, file = tempfile.mkstemp(prefix=f"fieldlog-{name}-", suffix=".txt", dir=_scratch(store))
    path = Path(file)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(original)
    keep = False
    try:
        while True:
            launch(path)
            written = _read(path)
            try:
                return apply(written)
            except FieldlogError as exc:
                if sys.stdin.isatty() and typer.confirm(
                    f"Error: {exc}\nOpen the editor again to fix it?", default=True, err=True
                ):
                    _mark_error(path, written, str(exc))
                    continue
                keep = True
                kept = FieldlogError(f"{exc} Nothing was changed; your text is kept in {path}.")
                kept.exit_code = exc.exit_code
                raise kept from None
    except BaseException:
        if not keep and _read_or_none(path) not in (None, original):
            keep = True  # the editor failed after something was typed: keep it too
            typer.echo(f"Your text is kept in {path}", err=True)
        raise
    finally:
        if not keep:
            path.unlink(missing_ok=True)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # Notepad may add a byte-order mark
    except UnicodeDecodeError:
        raise ValidationError(
            "edit",
            f"The editor saved {path} in an encoding other than UTF-8: save it as UTF-8 and "
            "try again.",
        ) from None


def _read_or_none(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def _mark_error(path: Path, text: str, message: str) -> None:
    """The file again with the error on its first line (an older error line replaced)."""
    lines = [ln for ln in text.splitlines() if not ln.startswith(ERROR_MARK)]
    path.write_text("\n".join([ERROR_MARK + message, *lines]) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------- stdin
def from_stdin(summary: str, notes: str | None) -> tuple[str, str | None]:
    """``add -`` and ``--notes -``: the text from stdin (a pipe, a file, or typed and ended
    with Ctrl-D; Ctrl-Z Enter on Windows). For the summary, its first line; the lines after
    it are the notes, as jrnl takes an entry's first sentence for its title."""
    if summary == "-" and notes == "-":
        raise ValidationError(
            "notes", "Only one of the summary and --notes can be read from stdin ('-')."
        )
    if sys.stdin.isatty():
        what = "summary" if summary == "-" else "notes"
        eof = "Ctrl-Z then Enter" if sys.platform == "win32" else "Ctrl-D"
        typer.echo(f"Type the {what}, then {eof} on a new line:", err=True)
    text = sys.stdin.read().strip()
    if notes == "-":
        if not text:
            raise ValidationError("notes", "--notes - read nothing from stdin: pipe the notes in.")
        return summary, text
    first, _, rest = text.partition("\n")
    if not first.strip():
        raise ValidationError(
            "summary", "add - read nothing from stdin: pipe the summary in, or type it."
        )
    rest = rest.strip()
    if rest and notes is not None:
        raise ValidationError(
            "notes",
            "stdin has lines after the summary and --notes is given too: put the notes in one "
            "place (the lines after the first become the notes when --notes is left out).",
        )
    return first.strip(), rest or notes

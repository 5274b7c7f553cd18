"""What an import reports: the counts it wrote (or would write), and the rejection that lists
every bad row when nothing was written. The CLI prints :meth:`ImportResult.summary` or, with
``--json``, :meth:`ImportResult.as_dict` (a stable format scripts read)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fieldlog.errors import FieldlogError
from fieldlog.text import plural


class ImportRejected(FieldlogError):
    """Rows failed the checks and nothing was written; the message lists every one."""

    def __init__(self, message: str, bad: list[str]) -> None:
        super().__init__(message)
        self.bad = bad

    @classmethod
    def of(cls, errors: list[str], count: int, *, dry_run: bool = False) -> ImportRejected:
        """The rejection of an import with ``count`` bad rows, ``errors`` the listed ones."""
        head = (
            f"{count} bad row{'s' if count != 1 else ''}; nothing was written"
            f"{' (dry run)' if dry_run else ''}. Fix them, or use --skip-bad to import the "
            "other rows:"
        )
        more = [f"  ... and {count - len(errors)} more"] if count > len(errors) else []
        return cls("\n".join([head, *(f"  {e}" for e in errors), *more]), errors)


@dataclass
class ImportResult:
    """What an import wrote (or, with ``dry_run``, would write)."""

    contacts: int = 0
    concerns: int = 0
    referrals: int = 0
    organizations: int = 0
    problems: int = 0
    problem_links: int = 0
    problem_entries: int = 0
    skipped: int = 0  # already present (same id), left as they are
    updated: int = 0  # already present, replaced because the file's updated_at is newer
    older: int = 0  # already present and newer in the log: left as they are
    conflicts: int = 0  # fields where the file and the log differ, kept for review
    bad: list[str] = field(default_factory=list)  # "line N: reason" (the first MAX_LISTED)
    bad_count: int = 0  # every bad row, listed or not
    dry_run: bool = False
    format: str = ""  # "export", "sheet" or "hsds"
    # Said about rows that were written (an HSDS partner close by name to one in the log).
    notices: list[str] = field(default_factory=list)

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        text = (
            f"{verb} {plural(self.contacts, 'contact')}, {plural(self.concerns, 'concern')}, "
            f"{plural(self.referrals, 'referral')}"
        )
        if self.format == "hsds":  # an HSDS directory holds partners only
            text = f"{verb} {plural(self.organizations, 'partner')} from the HSDS dataset"
        elif self.organizations:
            text += f", {plural(self.organizations, 'organization')}"
        if self.problems or self.problem_links or self.problem_entries:
            text += (
                f", {plural(self.problems, 'problem')} ({plural(self.problem_links, 'link')}, "
                f"{plural(self.problem_entries, 'log entry', 'log entries')})"
            )
        extra = f"{self.skipped} skipped as already present"
        would = "would be " if self.dry_run else ""
        if self.updated:
            extra += f", {self.updated} {would}updated as newer"
        if self.older:
            extra += f", {self.older} older than the log's, {would}left as they are"
        text += f" ({extra})"
        if self.conflicts:
            text += (
                f"; {plural(self.conflicts, 'differing field')} {would}kept for review "
                "(fieldlog conflicts)"
            )
        bad = max(self.bad_count, len(self.bad))
        if bad:
            text += f"; {bad} bad rows left out"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "contacts": self.contacts,
            "concerns": self.concerns,
            "referrals": self.referrals,
            "organizations": self.organizations,
            "problems": self.problems,
            "problem_links": self.problem_links,
            "problem_entries": self.problem_entries,
            "skipped": self.skipped,
            "updated": self.updated,
            "older": self.older,
            "conflicts": self.conflicts,
            "bad": self.bad,
            "bad_count": max(self.bad_count, len(self.bad)),
            "dry_run": self.dry_run,
            "format": self.format,
            "notices": self.notices,
            "summary": self.summary(),
        }

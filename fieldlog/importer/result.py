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


@dataclass
class ImportResult:
    """What an import wrote (or, with ``dry_run``, would write)."""

    contacts: int = 0
    concerns: int = 0
    referrals: int = 0
    organizations: int = 0
    skipped: int = 0  # already present (same id), left as they are
    updated: int = 0  # already present, replaced because the file's updated_at is newer
    bad: list[str] = field(default_factory=list)  # "line N: reason", left out (--skip-bad)
    dry_run: bool = False
    format: str = ""  # "export" or "sheet"

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        text = (
            f"{verb} {plural(self.contacts, 'contact')}, {plural(self.concerns, 'concern')}, "
            f"{plural(self.referrals, 'referral')}"
        )
        if self.organizations:
            text += f", {plural(self.organizations, 'organization')}"
        extra = f"{self.skipped} skipped as already present"
        if self.updated:
            extra += f", {self.updated} {'would be ' if self.dry_run else ''}updated as newer"
        text += f" ({extra})"
        if self.bad:
            text += f"; {len(self.bad)} bad rows left out"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "contacts": self.contacts,
            "concerns": self.concerns,
            "referrals": self.referrals,
            "organizations": self.organizations,
            "skipped": self.skipped,
            "updated": self.updated,
            "bad": self.bad,
            "dry_run": self.dry_run,
            "format": self.format,
            "summary": self.summary(),
        }

"""Referral sheets (``fieldlog referral sheet PARTNER``): a partner's open referrals, for the
partner to say what became of each and send the sheet back, offline (docs/referrals.md).

A sheet has one row per open referral made to the partner (status made, accepted or
unreachable: :data:`~fieldlog.models.REFERRAL_OPEN_STATUSES`; declined and completed ones
need nothing more from them), with what the partner needs to find the person (the referral's
id and day, service, reason, the resident's name, the neighborhood, its status and follow-up
day) and two empty columns for them to fill in, ``status`` and ``outcome``. ``fieldlog
import`` recognises a returned sheet by its marker and applies those two columns
(:mod:`fieldlog.importer.returned`, which reads the layout defined here).

- **.xlsx** (the default): the sheet ``referrals`` (through
  :func:`fieldlog.export.xlsx.write_workbook`: typed cells, header frozen and filtered, the two
  columns highlighted and unlocked, ``status`` a drop-down of the referral statuses, the other
  cells protected) and a sheet ``about`` whose first row is the marker, with a few lines saying
  what to do.
- **.csv**: the marker row first, then the header and the rows; UTF-8 with a BOM and CRLF
  (Excel reads it as UTF-8), cells a spreadsheet would run as a formula neutralised (``'``).

The marker names the partner (id and name), when the sheet was made (a UTC time, and the
log's clock then: an update made in the log since wins over an older sheet), and whether the
names were redacted. ``--redact`` follows :class:`~fieldlog.export.redact.Redactor`'s rules
(the resident's name becomes a pseudonym, the reason is scrubbed of every known name, phone
and address), except the referral id, which stays as it is: the partner sends it back, and it
says nothing about the person. Files are written whole or not at all
(:mod:`fieldlog.export.files`).
"""

from __future__ import annotations

import csv
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldlog import dates, models
from fieldlog.clock import HLC, parse_stamp
from fieldlog.errors import FieldlogError
from fieldlog.export.files import atomic_text
from fieldlog.export.lines import neutralise
from fieldlog.export.redact import Redactor

if TYPE_CHECKING:
    from fieldlog.db.store import Store

MARK = "fieldlog-sheet"  # the first cell of the marker row
KIND = "referrals/1"  # what the sheet is, and the layout's version
SHEET_NAME = "referrals"
ABOUT_NAME = "about"
# The columns, in order: (header, the field it shows). The last two are the partner's.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("referral id", "id"),
    ("date made", "created_at"),
    ("service", "service"),
    ("reason", "reason"),
    ("resident", "person_name"),
    ("neighborhood", "neighborhood"),
    ("current status", "status"),
    ("follow up by", "follow_up_on"),
    ("status", "status"),
    ("outcome", "outcome"),
)
HEADER = tuple(h for h, _ in COLUMNS)
EDITABLE = ("status", "outcome")  # the only columns an import reads back
FORMATS = (".xlsx", ".csv")
BOM = "\ufeff"


FUTURE_SLACK_S = 3600  # a sheet "made" further ahead than this is a changed marker


@dataclass(frozen=True)
class Marker:
    """Who a sheet is for and when it was made, as its marker row holds it."""

    partner_id: str
    partner: str
    exported_at: str  # UTC, as stored (``2026-12-02T14:30:00.000Z``)
    clock: str  # the log's hybrid logical clock then (an HLC stamp)
    redacted: bool

    def cells(self) -> list[str]:
        return [
            MARK, KIND, f"partner={self.partner_id}", f"name={self.partner}",
            f"exported={self.exported_at}", f"clock={self.clock}",
            f"redacted={'yes' if self.redacted else 'no'}",
        ]  # fmt: skip

    @classmethod
    def parse(cls, cells: Sequence[object]) -> Marker | None:
        """The marker in a row's cells; None when the row is not one. A marker of another
        kind or version is a FieldlogError (a newer fieldlog made the sheet)."""
        texts = ["" if c is None else str(c).strip() for c in cells]
        if not texts or texts[0] != MARK:
            return None
        kind = texts[1] if len(texts) > 1 else ""
        if kind != KIND:
            raise FieldlogError(
                f"This sheet was made by another fieldlog ('{kind or '?'}', not '{KIND}'): "
                "import it with the fieldlog that made it, or upgrade fieldlog."
            )
        got = dict(t.split("=", 1) for t in texts[2:] if "=" in t)
        try:
            wall_ms = parse_stamp(got.get("clock", ""))[0]
            made = dates.from_storage(got.get("exported", ""))
            if not got.get("partner"):
                raise ValueError
            # Made later than now (an hour of clock skew allowed, as sync holds changes):
            # a clock moved forward would let the sheet overwrite the officers' later edits.
            soon = time.time() + FUTURE_SLACK_S
            if wall_ms / 1000 > soon or made.timestamp() > soon:
                raise ValueError
        except ValueError:
            raise FieldlogError(
                "The sheet's fieldlog-sheet row (its first row) was changed, so it no longer "
                "says which partner it is for or when it was made: make a new sheet with "
                "fieldlog referral sheet PARTNER."
            ) from None
        return cls(
            got["partner"], got.get("name", ""), got["exported"], got["clock"],
            got.get("redacted") == "yes",
        )  # fmt: skip


@dataclass
class Written:
    """What :func:`write_sheet` wrote."""

    path: Path
    partner_id: str
    partner: str
    rows: int
    format: str  # "xlsx" or "csv"


def default_name(partner: str, *, today: str | None = None) -> str:
    """``referrals-parks-dept-2026-12-02.xlsx``: the partner's name folded to letters, digits
    and hyphens (a file name any system takes), and today's date."""
    text = unicodedata.normalize("NFKD", partner)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    slug = "-".join(re.findall(r"[a-z0-9]+", text))[:40].strip("-") or "partner"
    return f"referrals-{slug}-{today or dates.today_local()}.xlsx"


def sheet_format(path: Path) -> str:
    """``xlsx`` or ``csv`` from the file's name; a FieldlogError for anything else."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise FieldlogError(
            f"A referral sheet is an Excel workbook or a CSV file: give --out a name ending in "
            f".xlsx or .csv (not '{path.name}')."
        )
    return suffix[1:]


def marker_for(store: Store, org: dict[str, Any], *, redacted: bool) -> Marker:
    """The marker of a sheet made now. Its clock is the log's clock ticked once (and not
    kept: nothing is written), so every later change of the log is stamped after it."""
    meta = store.meta()
    origin = meta.get("device_id") or "sheet"
    stamp = HLC.from_stamp(origin, meta.get("hlc")).tick()
    return Marker(str(org["id"]), str(org["name"]), dates.stamp_now(), stamp, redacted)


def local_day(stamp: Any) -> str | None:
    """A stored UTC time as its local day (``YYYY-MM-DD``)."""
    if not stamp:
        return None
    try:
        return dates.to_local(dates.from_storage(str(stamp))).date().isoformat()
    except ValueError:
        return str(stamp)


def rows(store: Store, org_id: str, redactor: Redactor | None) -> list[list[Any]]:
    """The sheet's rows (values as the cells show them; the partner's two columns empty)."""
    out = []
    for r in store.referrals.sheet_rows(org_id):
        values: list[Any] = []
        for header, fname in COLUMNS:
            if header in EDITABLE:
                values.append(None)
                continue
            v = local_day(r["created_at"]) if fname == "created_at" else r.get(fname)
            if redactor is not None and fname != "id" and isinstance(v, str):
                v = redactor.cell(fname, v) or None
            values.append(v)
        out.append(values)
    return out


def write_sheet(
    store: Store,
    partner: str,
    out: Path | None = None,
    *,
    redact: bool = False,
    force: bool = False,
) -> Written:
    """Write the referral sheet of ``partner`` (a name or id prefix, as other commands take
    it) to ``out`` (None: :func:`default_name` in the current folder); .xlsx or .csv by the
    name. An existing file is replaced only with ``force``."""
    org = store.orgs.get(partner)
    path = Path(out) if out is not None else Path(default_name(str(org["name"])))
    fmt = sheet_format(path)
    redactor = Redactor.for_store(store) if redact else None
    marker = marker_for(store, org, redacted=redact)
    data = rows(store, str(org["id"]), redactor)
    if fmt == "csv":
        _write_csv(path, marker, data, force=force)
    else:
        _write_xlsx(store, path, marker, data, force=force)
    return Written(path, str(org["id"]), str(org["name"]), len(data), fmt)


def _write_csv(path: Path, marker: Marker, data: list[list[Any]], *, force: bool) -> None:
    with atomic_text(path, force=force) as fh:
        fh.write(BOM)
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(marker.cells())
        w.writerow(HEADER)
        for row in data:
            w.writerow(["" if v is None else neutralise(str(v)) for v in row])


def about_lines(marker: Marker) -> list[str]:
    """What the ``about`` sheet of a workbook says under its marker row (its header)."""
    return [
        f"Open referrals to {marker.partner}, {dates.show_local(marker.exported_at)}.",
        "On the referrals sheet, fill in the yellow columns for each person you have news of:",
        f"status: one of {', '.join(models.REFERRAL_STATUSES)} (pick it from the list);",
        "outcome: what came of it, in a few words. Leave a cell empty to change nothing.",
        "Keep the referral ids and this sheet as they are, save, and send the file back.",
    ]


def _write_xlsx(
    store: Store, path: Path, marker: Marker, data: list[list[Any]], *, force: bool
) -> None:
    from fieldlog.export.xlsx import Column, SheetSpec, scratch_for, write_workbook

    kinds = {"date made": "date", "follow up by": "date"}
    columns = [
        Column(
            h,
            kinds.get(h, "text"),
            choices=models.REFERRAL_STATUSES if h == "status" else (),
            editable=h in EDITABLE,
            width=48 if h in ("reason", "outcome") else None,
        )
        for h in HEADER
    ]
    cells = marker.cells()
    about = SheetSpec(
        ABOUT_NAME,
        [Column(c, width=90 if i == 0 else None) for i, c in enumerate(cells)],
        [[line] for line in about_lines(marker)],
    )
    tmpdir, in_memory = scratch_for(store)
    write_workbook(
        path,
        [SheetSpec(SHEET_NAME, columns, data), about],
        force=force,
        properties={"title": f"Referrals for {marker.partner}", "subject": MARK},
        tmpdir=tmpdir,
        in_memory=in_memory,
    )

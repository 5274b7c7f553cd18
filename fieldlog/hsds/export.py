"""``fieldlog export hsds --out DIR``: the partner directory as an HSDS 3.0 tabular dataset
(one CSV per table plus ``datapackage.json``, the official schema of those tables), written
with the export's own file rules (:mod:`fieldlog.export.files`: each file whole or not at all,
owner-only, existing files replaced only with ``force``).

Cells are written exactly as stored, with no formula guard: an HSDS dataset is for the
programs of a 2-1-1 or county directory, and ``'+1 555 0100`` would be a wrong phone number
there (docs/hsds.md says how to open the files in a spreadsheet).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldlog import models
from fieldlog.export.files import atomic_binary, atomic_text, prepare_folder
from fieldlog.hsds import mapping, spec

if TYPE_CHECKING:
    from fieldlog.db.store import Store

DATAPACKAGE = "datapackage.json"


@dataclass
class Written:
    """What an HSDS export wrote: rows per file, partners, and what HSDS could not take."""

    out: str
    partners: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)
    redacted: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": "hsds",
            "out": self.out,
            "partners": self.partners,
            "rows": self.rows,
            "left_out": self.left_out,
            "redacted": self.redacted,
        }


def _email_check() -> Any:
    """The e-mail check frictionless applies to HSDS ``format: email`` (the ``validators``
    package it depends on), so the export never writes one validation would refuse."""
    import validators  # frictionless' own dependency; imported by HSDS commands only

    return lambda text: bool(validators.email(text))


def dataset_rows(
    store: Store, *, status: str | None = None, redact: bool = False
) -> tuple[mapping.Rows, int]:
    """The HSDS rows of the live partners (``status``: only those), by name, and how many."""
    wanted = models.choice("status", status, models.ORG_STATUSES) if status else None
    rows = mapping.Rows()
    mapping.taxonomy_rows(rows)
    email_ok = _email_check()
    orgs = [o for o in store.records.iter_rows("organizations") if wanted in (None, o["status"])]
    orgs.sort(key=lambda o: (o["name"].casefold(), o["id"]))
    for org in orgs:
        mapping.partner_rows(rows, org, redact=redact, email_ok=email_ok)
    return rows, len(orgs)


def csv_bytes(resource: str, rows: list[dict[str, str]]) -> tuple[str, int]:
    """One table as CSV text (every column of the official schema, in its order)."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    cols = spec.fields(resource)
    w.writerow(cols)
    for r in rows:
        w.writerow([r.get(c, "") for c in cols])
    return buf.getvalue(), len(rows)


def descriptor_text() -> str:
    d = spec.package(list(spec.WRITTEN))
    for r in d["resources"]:
        r["encoding"] = "utf-8"
    return json.dumps(d, indent=2, ensure_ascii=False) + "\n"


def write_dataset(
    store: Store,
    dest: Path,
    *,
    force: bool = False,
    redact: bool = False,
    status: str | None = None,
) -> Written:
    """The partner directory into the folder ``dest`` (made if missing) or, when it ends
    with ``.zip``, into that zip: the tables of :data:`fieldlog.hsds.spec.WRITTEN` and
    ``datapackage.json``. Files that exist already are replaced only with ``force``; without
    it they are all checked before anything is written."""
    rows, n = dataset_rows(store, status=status, redact=redact)
    files = {spec.path_of(r): csv_bytes(r, rows.tables.get(r, [])) for r in spec.WRITTEN}
    done = Written(str(dest), n, {p: c for p, (_, c) in files.items()}, rows.left_out, redact)
    texts = {**{p: t for p, (t, _) in files.items()}, DATAPACKAGE: descriptor_text()}
    if dest.suffix.lower() == ".zip":
        with (
            atomic_binary(dest, force=force) as fh,
            zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        ):
            for name, text in texts.items():
                zf.writestr(name, text.encode("utf-8"))
        return done
    prepare_folder(dest, list(texts), force=force)
    for name, text in texts.items():
        with atomic_text(dest / name, force=force) as out:
            out.write(text)
    return done


def summary(done: Written) -> str:
    """The line the CLI prints."""
    from fieldlog.text import plural

    text = (
        f"Exported {plural(done.partners, 'partner')} as HSDS 3.0 "
        f"({', '.join(f'{c} {p}' for p, c in done.rows.items() if c)}) to {done.out}."
    )
    if done.redacted:
        text += " Redacted: contact people and notes left out."
    return text

"""Importing an Open Referral HSDS 3.0 tabular dataset (a 2-1-1 or county directory, or
``fieldlog export hsds``) as partners: a folder, or a zip of one (docs/hsds.md).

Recognised by its ``organizations.csv`` with HSDS columns (or a ``datapackage.json`` naming
one); fieldlog's own ``organizations.csv`` (its export) is not one and imports as before. The
dataset is validated first against the official schema (:mod:`fieldlog.hsds.validate`), every
bad row named, then each organization is checked by the partner's own rules and written
through the import's one transaction (:meth:`fieldlog.db.repos.imports.Imports.session`):
all or nothing, or the good rows with ``skip_bad``.

Idempotent by HSDS id: an organization's id is its partner's id, so importing the same dataset
again changes nothing, and an updated dataset updates the fields it gives (a field the
dataset leaves empty does not empty the partner's). A new organization whose name is close to
a partner's is imported and named in the result's notices (``fieldlog org merge``).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldlog import records
from fieldlog.errors import FieldlogError, ValidationError
from fieldlog.hsds import mapping, read, spec
from fieldlog.importer.plan import MAX_LISTED, Plan, _check_org_name, enc
from fieldlog.importer.result import ImportRejected, ImportResult
from fieldlog.importer.unzip import Expansion, MemberStream, ZipLimits, damaged

if TYPE_CHECKING:
    from fieldlog.db.store import Store

TABLE = "organizations"
ORGS = "organizations.csv"
DATAPACKAGE = "datapackage.json"
MEMBERS = {spec.path_of(r) for r in spec.resource_names()} | {DATAPACKAGE}


# ---------------------------------------------------------------------- recognising
def _is_hsds_header(header: list[str]) -> bool:
    """An HSDS ``organizations.csv`` header: id and name, every column one of HSDS's, and
    not fieldlog's own export (which has kind, contact_person ...)."""
    names = {h.strip().lstrip("\ufeff") for h in header if h.strip()}
    return {"id", "name"} <= names and names <= set(spec.fields("organization"))


def _header(data: bytes) -> list[str]:
    try:
        text = data.decode("utf-8-sig", errors="replace")
        return next(csv.reader(io.StringIO(text)), [])
    except csv.Error:
        return []


def _names_orgs(data: bytes) -> bool:
    """Whether a ``datapackage.json`` names an HSDS ``organizations.csv``."""
    try:
        d = json.loads(data.decode("utf-8-sig"))
        return any(
            isinstance(r, dict) and str(r.get("path", "")).rsplit("/", 1)[-1] == ORGS
            for r in d.get("resources", [])
        )
    except (ValueError, AttributeError, TypeError, RecursionError):  # deep nesting: not ours
        return False


def is_dataset(path: Path) -> bool:
    """Whether ``path`` (a folder or a zip) holds an HSDS dataset. A lone HSDS
    ``organizations.csv`` is refused with a message (its services and phones are in the
    files beside it). Never raises for a path it cannot read: the import says why."""
    try:
        if path.is_dir():
            orgs = path / ORGS
            if orgs.is_file():
                with open(orgs, "rb") as fh:
                    return _is_hsds_header(_header(fh.readline(1 << 16)))
            dp = path / DATAPACKAGE
            if not dp.is_file():
                return False
            with open(dp, "rb") as fh:  # a header's worth, never a huge file whole
                return _names_orgs(fh.read(1 << 20))
        if not path.is_file():
            return False
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
        if head.startswith(b"PK\x03\x04"):
            return _zip_is_dataset(path)
        if _is_hsds_header(_header(head.split(b"\n", 1)[0])):
            raise FieldlogError(
                f"{path.name} is the organizations table of an HSDS dataset: import the "
                "folder (or .zip) that holds it with its services.csv, phones.csv and the "
                "rest, so each partner comes with its services and phones."
            )
    except OSError:
        return False
    return False


def _zip_is_dataset(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
                if info.is_dir() or info.file_size > 64 << 20:
                    continue
                if base == ORGS:
                    with zf.open(info) as fh:
                        return _is_hsds_header(_header(fh.readline(1 << 16)))
                if base == DATAPACKAGE:
                    with zf.open(info) as fh:
                        if _names_orgs(fh.read(1 << 20)):
                            return True
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError,
            NotImplementedError):  # fmt: skip
        return False  # the ordinary import says what is wrong with it
    return False


# ---------------------------------------------------------------------- a zip
@contextmanager
def _folder_of(path: Path, limits: ZipLimits | None) -> Iterator[Path]:
    """The dataset's folder: ``path`` itself, or a private temporary folder the zip's HSDS
    files are unzipped into (capped like any import from a zip; removed afterwards)."""
    if path.is_dir():
        yield path
        return
    lim = limits or ZipLimits()
    tmp = Path(tempfile.mkdtemp(prefix="fieldlog-hsds-"))
    try:
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError) as exc:
            raise damaged(path.name, exc) from None
        with zf:
            members: dict[str, zipfile.ZipInfo] = {}
            for info in zf.infolist():
                base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
                if info.is_dir() or base not in MEMBERS:
                    continue
                if base in members:
                    raise FieldlogError(
                        f"The zip {path.name} holds {base} twice ({members[base].filename} and "
                        f"{info.filename}): keep one."
                    )
                members[base] = info
            expansion = Expansion(path.name, lim, path.stat().st_size)
            expansion.check(
                sum(i.file_size for i in members.values()),
                sum(i.compress_size for i in members.values()),
            )
            for base, info in members.items():
                try:
                    raw = zf.open(info)
                except (NotImplementedError, RuntimeError) as exc:
                    raise FieldlogError(
                        f"{path.name}: {info.filename} cannot be read ({exc}): unzip it and "
                        "import the folder."
                    ) from None
                except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
                    raise damaged(path.name, exc) from None
                expansion.zipped += info.compress_size
                stream = MemberStream(raw, expansion)
                with raw, open(tmp / base, "wb") as out:
                    while chunk := stream.read(1 << 20):
                        out.write(chunk)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------- importing
def import_dataset(
    store: Store,
    path: Path,
    *,
    dry_run: bool = False,
    skip_bad: bool = False,
    limits: ZipLimits | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import the HSDS dataset at ``path`` (a folder or a zip) as partners: validated first,
    every bad row named (:class:`ImportRejected`, nothing written, unless ``skip_bad``).
    ``progress(done, total)``, in bytes of the dataset's files: after validation (the long
    part, counted as half) and at the end."""
    from fieldlog.hsds import validate  # frictionless: only when a dataset is imported

    with _folder_of(path, limits) as folder:
        files = read.hsds_files(folder)
        if "organization" not in files:
            raise FieldlogError(
                f"{path.name} is an HSDS dataset without {ORGS}: there are no organizations "
                "to import."
            )
        total = sum((folder / f).stat().st_size for f in files.values())
        problems = validate.check_folder(folder, files)
        if progress is not None:
            progress(total // 2, total)
        orgs = read.organizations(folder, files, {(p.file, p.row) for p in problems})
    plan = Plan()
    plan.result.dry_run = dry_run
    for p in problems:
        plan.error(str(p))
    with store.imports.session() as writer:
        present = writer.present(TABLE, [mapping.fieldlog_id(o.row["id"]) for o in orgs])
        names: dict[str, str] = {}
        new: list[tuple[mapping.Org, str]] = []
        for org in orgs:
            _check(store, plan, present, names, org, new)
        writer.write(plan.writes, [])
        plan.writes = []
        _close_names(store, plan, new)  # a dry run too: its writes are rolled back after
        writer.keep = not dry_run and (skip_bad or not plan.bad)
    result = plan.result
    result.format = "hsds"
    result.bad, result.bad_count = list(plan.errors), plan.bad
    if plan.bad and not skip_bad:
        raise ImportRejected.of(list(plan.errors), plan.bad, dry_run=dry_run)
    if progress is not None:
        progress(total, total)
    return result


def _check(
    store: Store,
    plan: Plan,
    present: dict[str, dict[str, Any]],
    names: dict[str, str],
    org: mapping.Org,
    new: list[tuple[mapping.Org, str]],
) -> None:
    """One organization into the plan: inserted (new id), updated (the fields it gives
    differ), skipped (nothing new), or a bad row."""
    rid = mapping.fieldlog_id(org.row["id"])
    try:
        given = {k: v for k, v in mapping.partner_values(org).items() if v not in (None, "", [])}
        clean = records.clean(TABLE, given, partial=rid in present)
        if "name" in clean:
            _check_org_name(store, names, {"id": rid, "name": clean["name"]})
    except ValidationError as exc:
        plan.error(f"{org.where}: {exc}")
        return
    local = present.get(rid)
    if local is None:
        plan.add("insert", TABLE, {"id": rid, **clean})
        new.append((org, rid))
        return
    if local.get("deleted"):
        plan.result.skipped += 1  # deleted here (merged into another partner): stays so
        return
    differ = {f: v for f, v in clean.items() if enc(f, v) != local.get(f)}
    if not differ:
        plan.result.skipped += 1
        return
    plan.add("update", TABLE, {"id": rid, **differ})


def _close_names(store: Store, plan: Plan, new: list[tuple[mapping.Org, str]]) -> None:
    """Notices for new partners whose names are close to another partner's (the import's
    own among them, once written): offered for ``fieldlog org merge``."""
    if not new:
        return
    from fieldlog import partners  # rapidfuzz: only when partners were added

    everyone = [(str(r["id"]), str(r["name"])) for r in store.orgs.names()]
    for org, rid in new[:MAX_LISTED]:
        name = org.row.get("name", "").strip()
        others = [c for c in everyone if c[0] != rid]
        for m in partners.closest(name, others, limit=1):
            plan.result.notices.append(
                f"{org.where}: '{name}' is close to existing partner '{m.name}' "
                f"({m.id[:10]}); if they are one, fold the new one in: fieldlog org merge "
                f"{m.id[:10]} {rid[:10]}"
            )

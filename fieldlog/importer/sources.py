"""Which CSV files an import path stands for: one file, the folder of ``fieldlog export all``,
or its zip (:mod:`~fieldlog.importer.unzip`), each opened as a streamed
:class:`~fieldlog.importer.read.Sheet` in import order (parents first)."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from fieldlog.errors import FieldlogError
from fieldlog.importer.read import TABLE_ORDER, CountingStream, Sheet, open_sheet
from fieldlog.importer.unzip import ZipLimits, member_sizes, zip_sources


def _none_of(where: str) -> FieldlogError:
    return FieldlogError(
        f"{where} holds none of {', '.join(f'{t}.csv' for t in TABLE_ORDER)} "
        "(what 'fieldlog export all' writes)."
    )


def iter_sources(path: Path, limits: ZipLimits | None = None) -> Generator[Sheet, None, None]:
    """The CSV files a path stands for, opened one after the other in import order (parents
    first), each closed once read. ``limits``: a :class:`~fieldlog.importer.unzip.ZipLimits`
    for a zip (its defaults otherwise)."""
    if not path.exists():
        raise FieldlogError(f"There is no file or folder '{path}': check the path.")
    if path.is_dir():
        found = {t: path / f"{t}.csv" for t in TABLE_ORDER if (path / f"{t}.csv").is_file()}
        if not found:
            raise _none_of(f"The folder {path}")
        for table, p in found.items():
            with open(p, "rb") as fh:
                yield open_sheet(CountingStream(fh), f"{table}.csv", p.stat().st_size, table)
        return
    with open(path, "rb") as fh:
        if fh.read(4) == b"PK\x03\x04":
            fh.seek(0)
            yield from zip_sources(path, fh, limits)
            return
        fh.seek(0)
        yield open_sheet(CountingStream(fh), path.name, path.stat().st_size)


def survey(path: Path) -> tuple[int, int]:
    """How many CSV files ``path`` stands for (1: messages say ``line N`` without the file's
    name) and their bytes in all (a zip's as its headers claim them), for progress."""
    if path.is_dir():
        files = [path / f"{t}.csv" for t in TABLE_ORDER if (path / f"{t}.csv").is_file()]
        return len(files) or 1, sum(p.stat().st_size for p in files)
    with open(path, "rb") as fh:
        is_zip = fh.read(4) == b"PK\x03\x04"
    if is_zip:
        sizes = member_sizes(path)
        return len(sizes) or 1, sum(sizes)
    return 1, path.stat().st_size

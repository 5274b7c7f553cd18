"""The zip of ``fieldlog export all``, read member by member as a stream, with a cap on how
much it may expand.

A zip's header says how big each member is, but a header is only a claim: the caps
(:class:`ZipLimits`: total unzipped bytes, and unzipped bytes per zipped byte) are checked
twice, on the headers before anything is read (so an honest zip bomb is refused at once)
and on the bytes actually decompressed while reading (so a lying header is caught too).
Odd members (folders, a member twice under two folders, encrypted members, compression
methods Python cannot read, damaged data) are one-line errors, never a traceback.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from fieldlog.errors import FieldlogError
from fieldlog.importer.read import SAVE_AS, TABLE_ORDER, CountingStream, Sheet, open_sheet

MAX_BYTES = 1 << 30  # 1 GiB unzipped, all members together
MAX_RATIO = 200  # CSV compresses 5-20x; a bomb 1000x and more
RATIO_FLOOR = 1 << 20  # below 1 MiB unzipped the ratio is not checked (tiny files vary)


@dataclass(frozen=True)
class ZipLimits:
    """How far a zip may expand: ``max_bytes`` unzipped in all, ``max_ratio`` unzipped
    bytes per zipped byte (checked past :data:`RATIO_FLOOR`)."""

    max_bytes: int = MAX_BYTES
    max_ratio: float = MAX_RATIO


def human(n: float) -> str:
    """Bytes for a message: ``1 GB``, ``300 MB``, ``12 KB`` (powers of 1024)."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} bytes"


def parse_size(text: str) -> int:
    """``1GB``, ``500MB``, ``2g``, ``123456`` -> bytes (powers of 1024)."""
    t = text.strip().lower().replace(" ", "").removesuffix("b").removesuffix("i")
    scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}.get(t[-1:], 1)
    number = t[:-1] if scale != 1 else t
    try:
        value = float(number)
    except ValueError:
        raise FieldlogError(
            f"'{text}' is not a size: write it like 1GB, 500MB or 2000000 (bytes)."
        ) from None
    if not 0 < value * scale < 1 << 62:
        raise FieldlogError(f"'{text}' is not a size above zero.")
    return int(value * scale)


class Expansion:
    """The bytes one zip has given so far, against its caps."""

    def __init__(self, name: str, limits: ZipLimits, file_size: int) -> None:
        self.name, self.limits, self.file_size = name, limits, file_size
        self.out = 0  # unzipped bytes read so far, all members
        self.zipped = 0  # zipped bytes of the members opened so far (from their headers)

    def check(self, out: int, zipped: int) -> None:
        """Refuse ``out`` unzipped bytes from ``zipped`` zipped ones when over a cap."""
        lim = self.limits
        if out > lim.max_bytes:
            raise FieldlogError(
                f"{self.name} unzips to more than {human(lim.max_bytes)}, the cap on an import "
                "from a zip: unzip it and import the folder, or raise the cap with --zip-max."
            )
        zipped = max(1, min(zipped, self.file_size))  # a header cannot claim more than the file
        if out > RATIO_FLOOR and out > lim.max_ratio * zipped:
            raise FieldlogError(
                f"{self.name} unzips to more than {lim.max_ratio:g} times its size, the cap on "
                "an import from a zip (CSV files compress far less: this looks like a zip "
                "bomb); if it is genuine, unzip it and import the folder, or use --zip-ratio."
            )


class MemberStream:
    """One member's bytes, counted against the zip's :class:`Expansion` as they come; any
    failure of the zip library while reading is one line naming the zip."""

    def __init__(self, raw: IO[bytes], expansion: Expansion) -> None:
        self.raw, self.expansion = raw, expansion

    def read(self, n: int) -> bytes:
        try:
            data = self.raw.read(n)
        except FieldlogError:
            raise
        except Exception as exc:  # zlib.error, EOFError, BadZipFile (CRC), lzma, bz2 ...
            raise damaged(self.expansion.name, exc) from None
        e = self.expansion
        e.out += len(data)
        e.check(e.out, e.zipped)
        return data

    def close(self) -> None:
        self.raw.close()


def damaged(name: str, exc: BaseException) -> FieldlogError:
    why = str(exc) or type(exc).__name__
    return FieldlogError(f"{name} is a damaged zip file ({why}).")


def _members(zf: zipfile.ZipFile, name: str) -> dict[str, zipfile.ZipInfo]:
    """The CSV members to read, by file name (``contacts.csv``), in whatever folder."""
    found: dict[str, zipfile.ZipInfo] = {}
    names = set()
    for info in zf.infolist():
        if info.is_dir():
            continue
        base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
        names.add(base)
        if base in {f"{t}.csv" for t in TABLE_ORDER}:
            if base in found:
                raise FieldlogError(
                    f"The zip {name} holds {base} twice ({found[base].filename} and "
                    f"{info.filename}): keep one."
                )
            found[base] = info
    if "[Content_Types].xml" in names and not any(n.endswith(".csv") for n in names):
        raise FieldlogError(f"{name} is a spreadsheet workbook, not CSV: {SAVE_AS}.")
    if not found:
        raise FieldlogError(
            f"The zip {name} holds none of {', '.join(f'{t}.csv' for t in TABLE_ORDER)} "
            "(what 'fieldlog export all' writes)."
        )
    return found


def member_sizes(path: Path) -> list[int]:
    """The unzipped sizes the headers claim for the CSV members a zip would import (none
    when it cannot be read: reading it says why)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return [i.file_size for i in _members(zf, path.name).values()]
    except (FieldlogError, zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        return []


def zip_sources(path: Path, fh: BinaryIO, limits: ZipLimits | None = None) -> Iterator[Sheet]:
    """Each CSV of the zip, in import order, as a streamed :class:`Sheet`."""
    lim = limits or ZipLimits()
    name = path.name
    size = path.stat().st_size
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError) as exc:
        raise damaged(name, exc) from None
    with zf:
        members = _members(zf, name)
        ordered = [members[f"{t}.csv"] for t in TABLE_ORDER if f"{t}.csv" in members]
        expansion = Expansion(name, lim, size)
        # The headers' claims first: an honest bomb is refused before anything is read.
        expansion.check(sum(i.file_size for i in ordered), sum(i.compress_size for i in ordered))
        for info in ordered:
            try:
                raw = zf.open(info)
            except NotImplementedError as exc:
                raise FieldlogError(
                    f"{name}: {info.filename} is compressed in a way fieldlog cannot read "
                    f"({exc}): unzip it and import the folder."
                ) from None
            except RuntimeError as exc:  # encrypted (the only RuntimeError zipfile raises)
                why = "is encrypted" if "encrypted" in str(exc) else f"cannot be read ({exc})"
                raise FieldlogError(
                    f"{name}: {info.filename} {why}: unzip it yourself (with its password) "
                    "and import the folder."
                ) from None
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
                raise damaged(name, exc) from None
            expansion.zipped += info.compress_size
            stream = CountingStream(MemberStream(raw, expansion))  # type: ignore[arg-type]
            try:
                table = info.filename.replace("\\", "/").rsplit("/", 1)[-1][: -len(".csv")]
                yield open_sheet(stream, f"{table}.csv", info.file_size, table)
            finally:
                raw.close()

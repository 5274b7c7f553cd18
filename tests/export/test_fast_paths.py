"""The CSV export's packed fast path (rows packed by SQLite, runs of plain text columns written
as one piece, local times through per-hour tables) against its exact paths: the same bytes for
the formula guard, the quoting, local times at the clock changes, and values that do not fit
the packing (a cell holding a separator, a time that is not text)."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest

from fieldlog import export
from fieldlog.db.export_sql import PACK_PART, PACK_SEP
from fieldlog.export.columns import COLUMNS
from fieldlog.export.lines import Lines
from tests.lib.export_helpers import local_iso
from tests.lib.portable import needs_tzset, tzset

PLAIN = ("ana", "resident", "Ana Diaz", "Eastside")
RUN = ("officer", "kind", "person_name", "neighborhood")
ODD = (
    "=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "a,b", 'say "hi"', "two\nlines", "", "'",
    "x=1", "é-", "=", "-",
)  # fmt: skip


def packed(rows: list[tuple[str, ...]], parts: list[int]) -> str:
    """Rows as Exports.packed_chunks packs them (no rowid)."""
    out = []
    for row in rows:
        at = 0
        for size in parts:
            out.append(PACK_SEP.join(row[at : at + size]))
            at += size
    return PACK_PART.join(out)


def csv_line(row: tuple[str, ...], *, raw: bool) -> str:
    buf = io.StringIO(newline="")
    cells = row if raw else [export.neutralise(v) for v in row]
    csv.writer(buf, lineterminator="\r\n").writerow(cells)  # "\r\n": a lone CR is quoted
    return buf.getvalue()[:-2] + "\n"


@pytest.mark.parametrize("raw", [False, True])
def test_a_run_of_plain_columns_still_guards_and_quotes_each_cell(store, raw):
    lines = Lines(store, RUN, raw=raw, eol="\n")
    parts = lines.parts([PLAIN] * 300)
    assert parts == [4]  # sampled plain: one run, written as one piece while a batch allows
    assert lines.chunk(3, packed([PLAIN] * 3, parts), parts) == csv_line(PLAIN, raw=raw) * 3
    for odd in ODD:
        for j in range(len(RUN)):
            row = tuple(odd if k == j else v for k, v in enumerate(PLAIN))
            rows = [PLAIN] * 4 + [row] + [PLAIN] * 2
            expected = "".join(csv_line(r, raw=raw) for r in rows)
            assert lines.batch(rows) == expected, (odd, j)  # the stored-rows path
            assert lines.chunk(len(rows), packed(rows, parts), parts) == expected, (odd, j)


def test_a_cell_holding_a_separator_takes_the_stored_path(store):
    lines = Lines(store, RUN, raw=False, eol="\n")
    for sep in (PACK_SEP, PACK_PART):
        row = ("ana", f"x{sep}y", "Ana", "Eastside")
        assert lines.chunk(2, packed([PLAIN, row], [4]), [4]) is None
        alone = lines.chunk(2, packed([PLAIN, row], [1, 1, 1, 1]), [1, 1, 1, 1])
        # A part of one cell is that cell, whatever it holds; the row separator never fits.
        assert alone == (lines.batch([PLAIN, row]) if sep == PACK_SEP else None)


# New York's clocks: forward at 2026-03-08 07:00 UTC, back at 2026-11-01 06:00 UTC.
DST = [
    "2026-03-08T06:59:59Z", "2026-03-08T07:00:00Z", "2026-03-08T07:00:01Z",
    "2026-03-08T06:00:00Z", "2026-03-08T08:59:59Z",
    "2026-11-01T05:59:59Z", "2026-11-01T06:00:00Z", "2026-11-01T06:30:00Z",
    "2026-11-01T04:59:59Z", "2026-11-01T07:00:00Z",
    "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z", "2026-02-28T23:30:00Z",
]  # fmt: skip


@needs_tzset
@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Asia/Kolkata"])
def test_local_times_around_clock_changes_render_like_the_reference(store, monkeypatch, zone):
    monkeypatch.setenv("TZ", zone)
    tzset()
    lines = Lines(store, ("occurred_at", "created_at", "summary"), raw=False, eol="\n")
    stamps = [(t, t[:-1] + f".{i * 37 % 1000:03d}Z", "s") for i, t in enumerate(DST)]
    stamps += [("", "2026-11-01T06:00:00.000Z", "s"), (DST[0], "", "s")]
    expected = "".join(
        f"{local_iso(a) if a else ''},{local_iso(b) if b else ''},s\n" for a, b, _ in stamps
    )
    assert lines.batch(stamps) == expected
    got = lines.chunk(len(stamps), packed(stamps, [1, 1, 1]), [1, 1, 1])
    if zone != "Asia/Kolkata":  # whole-hour offsets: the per-hour table, not SQL
        assert lines._times([a for a, _, _ in stamps], False) is not None
        assert lines._times([b for _, b, _ in stamps], True) is not None
        assert got == expected
    else:
        assert got in (expected, None)  # None: half-hour zones take the exact path
    repeated = [(DST[6], DST[6][:-1] + ".250Z", "s")] * 40  # the whole-cell cache
    again = lines.chunk(40, packed(repeated, [1, 1, 1]), [1, 1, 1])
    assert again == lines.batch(repeated) or (again is None and zone == "Asia/Kolkata")
    assert lines.batch(repeated) == f"{local_iso(DST[6])},{local_iso(repeated[0][1])},s\n" * 40


@needs_tzset
def test_the_spring_gap_and_the_autumn_repeat_in_new_york(store, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    tzset()
    lines = Lines(store, ("occurred_at",), raw=False, eol="\n")
    cells = lines._times(DST[:2] + DST[5:7], False)
    assert cells == [
        "2026-03-08T01:59:59-05:00", "2026-03-08T03:00:00-04:00",
        "2026-11-01T01:59:59-04:00", "2026-11-01T01:00:00-05:00",
    ]  # fmt: skip


def test_odd_stored_values_export_as_the_stored_path_writes_them(cli, store, db_path):
    """Values no typed text holds (written behind fieldlog's back): a separator in a cell,
    a number in a time column, a list that is not JSON text. The packed export fetches those
    batches as stored: the same bytes as the stored-rows path, for the whole table (rows
    joined by SQLite) and a filtered one (a packed text a row)."""
    cli("demo", "--contacts", "300")
    con = sqlite3.connect(db_path)
    ids = [r[0] for r in con.execute("SELECT id FROM contacts ORDER BY rowid")]
    con.execute("UPDATE contacts SET beat = ? WHERE id = ?", (f"B{PACK_SEP}1", ids[280]))
    con.execute("UPDATE contacts SET location = ? WHERE id = ?", (f"x{PACK_PART}y", ids[290]))
    con.execute("UPDATE contacts SET reviewed_at = 12345 WHERE id = ?", (ids[285],))
    con.execute("UPDATE contacts SET tags = 7 WHERE id = ?", (ids[286],))
    con.execute("UPDATE contacts SET person_name = '=cmd' WHERE id = ?", (ids[295],))
    con.commit()
    con.close()
    columns = COLUMNS["contacts"]
    for filters in ({}, {"officer": store.scalar("SELECT officer FROM contacts LIMIT 1")}):
        lines = Lines(store, columns, raw=False, eol="\n")
        stored = (
            ",".join(columns)
            + "\n"
            + "".join(
                lines.batch(rows) for rows in store.exports.raw_rows("contacts", columns, filters)
            )
        )
        buf = io.StringIO(newline="")
        assert export.write_table(store, "contacts", buf, filters=filters) == 300
        assert buf.getvalue() == stored
        assert "'=cmd" in stored and f"B{PACK_SEP}1" in stored

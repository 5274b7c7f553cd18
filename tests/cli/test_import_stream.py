"""`fieldlog import` of big and hostile files (issue 12): memory that does not grow with the
file, zip expansion caps, NUL bytes anywhere, colliding ids as conflicts (newer wins, far
future refused), batches inside one transaction, and one line for MemoryError / OSError."""

from __future__ import annotations

import csv
import io
import sqlite3
import time
import tracemalloc
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fieldlog import export, importer
from fieldlog.db.store import Store
from fieldlog.errors import FieldlogError
from fieldlog.importer import unzip

HEADER = ("id,occurred_at,officer,kind,person_name,organization_id,neighborhood,beat,location,"
          "summary,notes,tags,follow_up_on,created_at,updated_at")  # fmt: skip
SHEET = "date,name,neighborhood,summary,concern category,concern text"


def contacts_csv(path: Path, n: int, *, start: int = 0) -> Path:
    """``n`` valid exported contacts (ids from ``start``), ~330 bytes a row."""
    base = 1_735_689_600_000  # 2025-01-01
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\r\n")
        for i in range(start, start + n):
            rid = f"{base + i * 1000:012x}7{i:019x}"
            day = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}"
            out.write(
                f"{rid},{day}T14:30:00-06:00,Sgt Lee,resident,Person {i},,Eastside,B1,"
                f"{i} Main St,Met about the youth league {i} and court lighting,"
                f"Notes for visit {i}: neighbors and parks dept,youth;night,,"
                f"{day}T20:30:00.000Z,{day}T20:30:00.000Z\r\n"
            )
    return path


def count(db: Path, table: str = "contacts") -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def peak_of(store: Store, path: Path) -> int:
    tracemalloc.start()
    try:
        importer.import_path(store, path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ---------------------------------------------------------------------- bounded memory
def test_memory_does_not_grow_with_the_file(tmp_path, monkeypatch):
    """Python's allocations for N and 4N rows: flat, not 4x (the old import held every row,
    parsed and planned, ~19x the file)."""
    monkeypatch.setattr(importer, "BATCH", 250)
    monkeypatch.setattr("fieldlog.importer.read.CHUNK", 64 << 10)  # both files span chunks
    small = contacts_csv(tmp_path / "small.csv", 1000)
    big = contacts_csv(tmp_path / "big.csv", 4000, start=10_000)
    with Store.open(tmp_path / "a.db") as s:
        p_small = peak_of(s, small)
    with Store.open(tmp_path / "b.db") as s:
        p_big = peak_of(s, big)
    assert count(tmp_path / "b.db") == 4000
    assert p_big < 1.5 * p_small + 512 * 1024, (p_small, p_big)


@pytest.mark.slow
def test_memory_stays_flat_on_a_10_mb_file(tmp_path):
    path = contacts_csv(tmp_path / "c.csv", 36_000)  # ~10 MB
    assert path.stat().st_size > 10_000_000
    with Store.open(tmp_path / "a.db") as s:
        peak = peak_of(s, path)
    assert count(tmp_path / "a.db") == 36_000
    assert peak < 24 << 20, peak  # a chunk and a batch of rows (~15 MB), not the file x 19


def test_batches_are_one_transaction_and_the_log_verifies(cli, tmp_path, db_path, monkeypatch):
    """Rows written batch by batch, parents in one file, children in the next, one BEGIN."""
    monkeypatch.setattr(importer, "BATCH", 3)
    cli("init", "--officer", "Lee")
    for i in range(7):
        cli("add", f"Visit {i}", "--concern", f"noise:loud {i}", "--at", "2025-03-02 10:00")
    out = tmp_path / "all"
    with Store.open(db_path) as s:
        export.export_all(s, out)
    other = tmp_path / "other.db"
    r = cli.json("--db", str(other), "import", str(out))
    assert (r["contacts"], r["concerns"], r["skipped"]) == (7, 7, 0)
    assert "OK" in cli("--db", str(other), "verify").stdout
    r = cli.json("--db", str(other), "import", str(out))  # again: all skipped, over batches
    assert (r["contacts"], r["concerns"], r["skipped"]) == (0, 0, 14)


def test_a_bad_row_in_a_late_batch_rolls_back_every_batch(cli, tmp_path, db_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH", 10)
    path = contacts_csv(tmp_path / "c.csv", 95)
    with open(path, "a", encoding="utf-8") as f:
        f.write("not-an-id,2025-01-01T10:00:00Z,Lee,resident,,,,,,x,,,,"
                "2025-01-01T10:00:00.000Z,2025-01-01T10:00:00.000Z\r\n")  # fmt: skip
    r = cli("import", str(path), code=1)
    assert "1 bad row; nothing was written" in r.stderr and "line 97:" in r.stderr
    assert count(db_path) == 0
    assert "nothing was written (dry run)" in cli("import", str(path), "--dry-run", code=1).stderr
    j = cli.json("import", str(path), "--skip-bad")
    assert j["contacts"] == 95 and j["bad_count"] == 1


def test_dry_run_of_a_multi_batch_file_writes_nothing(cli, tmp_path, db_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH", 10)
    path = contacts_csv(tmp_path / "c.csv", 45)
    r = cli("import", str(path), "--dry-run")
    assert "would import 45 contacts" in r.stdout
    assert count(db_path) == 0 and count(db_path, "changes") == 0


def test_bad_rows_listed_are_capped(store, tmp_path, monkeypatch):
    monkeypatch.setattr("fieldlog.importer.plan.MAX_LISTED", 5)
    lines = [SHEET] + [f"not a date,A,East,Visit {i},," for i in range(12)]
    path = tmp_path / "s.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(importer.ImportRejected) as exc:
        importer.import_path(store, path)
    assert "12 bad rows" in str(exc.value) and "... and 7 more" in str(exc.value)
    assert len(exc.value.bad) == 5


# ---------------------------------------------------------------------- NUL anywhere
def test_a_nul_at_byte_10_mb_is_refused_with_its_line(cli, tmp_path, db_path):
    path = tmp_path / "s.csv"
    with open(path, "wb") as f:
        f.write((SHEET + "\n2025-11-20,Ana,East,Fine row,,\n").encode())
        pad = b" " * 1023 + b"\n"  # blank lines (skipped): 10 MB of them, fast to read
        f.write(pad * (10 * 1024))
        f.write(b"2025-11-21,Bo,East,Bad\x00row,,\n")
    assert path.stat().st_size > 10 << 20
    r = cli("import", str(path), code=1)
    line = 2 + 10 * 1024 + 1
    assert f"a NUL byte on line {line}" in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1
    assert count(db_path) == 0


def test_latin1_far_into_the_file_names_its_line(store, tmp_path):
    path = contacts_csv(tmp_path / "c.csv", 4000)  # > 1 MB: the bad byte is in a later chunk
    with open(path, "ab") as f:
        f.write("José".encode("latin-1") + b"\r\n")
    with pytest.raises(FieldlogError, match=r"byte 0xe9 on line 4002\)"):
        importer.import_path(store, path)
    assert store.contacts.count() == 0


def test_line_endings_cr_only_and_crlf_across_chunks(store, tmp_path, monkeypatch):
    monkeypatch.setattr("fieldlog.importer.read.CHUNK", 7)  # cuts inside CR LF pairs
    path = tmp_path / "s.csv"
    path.write_bytes(b"summary,date\r\nA,2025-01-05\r\nB,2025-01-06\rC,2025-01-07\n")
    assert importer.import_path(store, path).contacts == 3
    path.write_bytes(b'summary,date\r\n"two\r\nlines",2025-01-05\r\nno date,\r\n')
    with pytest.raises(importer.ImportRejected, match="line 4:"):
        importer.import_path(store, path)


# ---------------------------------------------------------------------- zips
def bomb(path: Path, mb: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("contacts.csv", "w") as m:
            m.write((HEADER + "\r\n").encode())
            block = b"\r\n" * (1 << 19)
            for _ in range(mb):
                m.write(block)
    return path


def test_a_zip_bomb_is_refused_at_once(cli, tmp_path, db_path):
    path = bomb(tmp_path / "bomb.zip", 60)  # 60 MB unzipped from ~60 KB
    assert path.stat().st_size < 1 << 20
    t = time.perf_counter()
    r = cli("import", str(path), code=1)
    assert time.perf_counter() - t < 5
    assert "unzips to more than 200 times its size" in r.stderr and "--zip-ratio" in r.stderr
    assert r.stderr.count("\n") == 1 and count(db_path) == 0
    r = cli("import", str(path), "--zip-ratio", "5000", "--zip-max", "10MB", code=1)
    assert "unzips to more than 10 MB, the cap" in r.stderr and "--zip-max" in r.stderr
    r = cli("import", str(path), "--zip-max", "lots", code=1)
    assert "'lots' is not a size" in r.stderr


def test_the_cap_is_checked_on_the_bytes_read_not_only_the_header(tmp_path):
    """A header may lie: the member's real bytes are counted as they are decompressed."""
    exp = unzip.Expansion("x.zip", unzip.ZipLimits(max_bytes=3 << 20), file_size=10_000)
    exp.zipped = 10_000
    stream = unzip.MemberStream(io.BytesIO(b"a" * (8 << 20)), exp)
    with pytest.raises(FieldlogError, match="x.zip unzips to more than 200 times its size"):
        while stream.read(1 << 20):
            pass
    assert exp.out <= 3 << 20  # stopped at the first chunk over the ratio
    exp = unzip.Expansion("y.zip", unzip.ZipLimits(max_bytes=3 << 20), file_size=10 << 20)
    exp.zipped = 10 << 20
    stream = unzip.MemberStream(io.BytesIO(b"a" * (8 << 20)), exp)
    with pytest.raises(FieldlogError, match="y.zip unzips to more than 3 MB"):
        while stream.read(1 << 20):
            pass


def _zip(path: Path, members: dict[str, bytes], flag: int = 0) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    if flag:  # set a general-purpose flag (0x1: encrypted) in both headers of member one
        data = bytearray(path.read_bytes())
        data[6] |= flag
        data[data.find(b"PK\x01\x02") + 8] |= flag
        path.write_bytes(bytes(data))
    return path


ODD_ZIPS = {
    "nested zip": (
        lambda p: _zip(p, {"contacts.csv": _zip(p.with_suffix(".in"), {"a": b"x"}).read_bytes()}),
        "contacts.csv is not a CSV file (it holds binary data: a NUL byte on line 1",
    ),
    "twice": (
        lambda p: _zip(p, {"a/contacts.csv": b"x", "b/contacts.csv": b"y"}),
        "holds contacts.csv twice (a/contacts.csv and b/contacts.csv): keep one.",
    ),
    "encrypted": (
        lambda p: _zip(p, {"contacts.csv": HEADER.encode()}, flag=0x1),
        "odd.zip: contacts.csv is encrypted: unzip it yourself (with its password)",
    ),
    "truncated": (
        lambda p: p.write_bytes(bomb(p.with_suffix(".b"), 1).read_bytes()[:3000]),
        "is a damaged zip file",
    ),
    "no csv": (lambda p: _zip(p, {"notes.txt": b"hi"}), "holds none of organizations.csv"),
    "only folders": (lambda p: _zip(p, {"contacts.csv/": b""}), "holds none of"),
    "wrong header": (
        lambda p: _zip(p, {"x/contacts.csv": b"summary,date\nA,2025-01-01\n"}),
        "contacts.csv does not have the columns of exported contacts.",
    ),
}


@pytest.mark.parametrize("kind", list(ODD_ZIPS))
def test_odd_zips_give_one_line(cli, tmp_path, db_path, kind):
    make, message = ODD_ZIPS[kind]
    path = tmp_path / "odd.zip"
    make(path)
    r = cli("import", str(path), code=1)
    assert message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    assert count(db_path) == 0


def test_a_zip_in_a_folder_of_the_zip_imports(cli, tmp_path, db_path):
    src = contacts_csv(tmp_path / "c.csv", 3)
    path = _zip(tmp_path / "z.zip", {"export-2025/contacts.csv": src.read_bytes()})
    assert cli.json("import", str(path))["contacts"] == 3


# ---------------------------------------------------------------------- colliding ids
def _exported(cli, db_path, tmp_path) -> tuple[Path, list[dict[str, str]], str]:
    cli("init", "--officer", "Lee")
    rid = cli.new("add", "Walkthrough", "--at", "2025-07-04 09:05")
    path = tmp_path / "contacts.csv"
    with Store.open(db_path) as s, open(path, "w", encoding="utf-8", newline="") as out:
        export.write_table(s, "contacts", out)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    return path, rows, rid


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_a_colliding_id_stamped_2999_is_refused(cli, tmp_path, db_path):
    path, rows, rid = _exported(cli, db_path, tmp_path)
    before = cli.json("show", rid)
    rows[0]["summary"] = "Overwritten"
    rows[0]["updated_at"] = "2999-01-01T00:00:00.000Z"
    _write(path, rows)
    r = cli("import", str(path), code=1)
    assert "line 2: updated_at '2999-01-01T00:00:00.000Z' is in the future" in r.stderr
    assert "nothing was written" in r.stderr and "Traceback" not in r.stderr
    assert cli.json("show", rid) == before  # not overwritten, date not pinned
    assert cli.json("conflicts") == []
    j = cli.json("import", str(path), "--skip-bad")  # left out, never stored
    assert j["bad_count"] == 1 and cli.json("show", rid)["updated_at"] == before["updated_at"]


def test_a_new_record_stamped_in_the_future_is_refused(store, tmp_path):
    path = contacts_csv(tmp_path / "c.csv", 2)
    soon = (datetime.now(UTC) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    text = path.read_text(encoding="utf-8").splitlines()
    text[2] = text[2].rsplit(",", 1)[0] + "," + soon
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(importer.ImportRejected, match=r"line 3: updated_at .* in the future"):
        importer.import_path(store, path)
    assert store.contacts.count() == 0


def test_a_newer_colliding_row_wins_and_the_old_value_is_kept(cli, tmp_path, db_path):
    path, rows, rid = _exported(cli, db_path, tmp_path)
    newer = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    rows[0].update(summary="Walkthrough, revised", location="Elm St", updated_at=newer)
    _write(path, rows)
    j = cli.json("import", str(path))
    assert (j["updated"], j["older"], j["conflicts"]) == (1, 0, 2)
    c = cli.json("show", rid)
    assert c["summary"] == "Walkthrough, revised" and c["updated_at"] == newer
    got = {(x["field"], x["mine"], x["theirs"], x["kept"]) for x in cli.json("conflicts")}
    assert got == {("summary", "Walkthrough", "Walkthrough, revised", "theirs"),
                   ("location", None, "Elm St", "theirs")}  # fmt: skip
    assert cli.json("import", str(path))["skipped"] == 1  # same again: nothing new
    assert len(cli.json("conflicts")) == 2
    assert "OK" in cli("verify").stdout


def test_an_older_colliding_row_loses_and_is_kept_for_review(cli, tmp_path, db_path):
    path, rows, rid = _exported(cli, db_path, tmp_path)
    before = cli.json("show", rid)
    rows[0].update(summary="An old version", updated_at="2025-01-01T00:00:00.000Z")
    _write(path, rows)
    j = cli.json("import", str(path))
    assert (j["updated"], j["older"], j["conflicts"], j["contacts"]) == (0, 1, 1, 0)
    assert "1 older than the log's, left as they are" in j["summary"]
    assert "1 differing field kept for review (fieldlog conflicts)" in j["summary"]
    assert cli.json("show", rid) == before
    (c,) = cli.json("conflicts")
    assert (c["mine"], c["theirs"], c["kept"], c["theirs_officer"]) == (
        "Walkthrough", "An old version", "mine", "Lee")  # fmt: skip
    cli.json("import", str(path))
    assert len(cli.json("conflicts")) == 1  # not kept twice
    cli("conflicts", "resolve", str(c["id"]), "--keep", "theirs")
    assert cli.json("show", rid)["summary"] == "An old version"


# ---------------------------------------------------------------------- never a traceback
@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (MemoryError(), "Ran out of memory importing s.csv; nothing was written."),
        (OSError(5, "Input/output error", "s.csv"), "Cannot read s.csv: Input/output error."),
    ],
)
def test_memory_and_os_errors_are_one_line(cli, tmp_path, db_path, monkeypatch, exc, message):
    path = tmp_path / "s.csv"
    path.write_text(SHEET + "\n2025-11-20,Ana,East,Fine,,\n", encoding="utf-8")
    cli("init", "--officer", "Lee")

    def boom(*a, **k):
        raise exc

    monkeypatch.setattr("fieldlog.importer.plan.check_export_batch", boom)
    monkeypatch.setattr(importer, "check_sheet_batch", boom)
    r = cli("import", str(path), code=1)
    assert message in r.stderr and r.stderr.count("\n") == 1
    assert "Traceback" not in r.stderr and count(db_path) == 0

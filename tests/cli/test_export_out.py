"""``export --out``: only regular files, never replaced without ``--force``, a temporary file
created exclusively (no symbolic link followed, whatever is planted beside the target), renamed
only once flushed and synced, and a write error (a full disk) as one line with nothing left.

No test here writes to a real device: a device node is made in the test's own folder (as root),
so a regression can never replace /dev/null or /dev/full on the machine running the tests."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from fieldlog.export import files
from fieldlog.export.columns import TABLES
from tests.lib.run import run_fieldlog

POSIX = os.name == "posix"


@pytest.fixture
def log(cli):
    cli("add", "Met Ada Quill at the bakery", "--name", "Ada Quill")
    return cli


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in stderr
    return lines[0]


def _names(folder: Path) -> list[str]:
    """The files in ``folder`` but the test's log (``db_path`` lives there too)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("log.db"))


# ---------------------------------------------------------------- what FILE may be
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_refused_without_opening_it(log, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    line = _one_line(log("export", "--out", str(fifo), "--force", code=1).stderr)
    assert "is not a regular file (it is a FIFO): give a file path" in line
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and _names(tmp_path) == ["pipe"]


@pytest.mark.skipif(
    not hasattr(os, "mknod") or not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="making a device node needs root on POSIX",
)
def test_a_device_is_refused_even_for_root_with_force(log, tmp_path):
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a private /dev/null
    line = _one_line(log("export", "--out", str(null), "--force", code=1).stderr)
    assert "is not a regular file (it is a device)" in line
    assert stat.S_ISCHR(os.lstat(null).st_mode) and _names(tmp_path) == ["null"]


def test_a_folder_is_refused(log, tmp_path):
    line = _one_line(log("export", "--out", str(tmp_path), code=1).stderr)
    assert "is not a regular file (it is a folder): give a file path" in line


@pytest.mark.skipif(not POSIX, reason="symbolic links need privileges on Windows")
@pytest.mark.parametrize("dangling", [False, True])
def test_a_symbolic_link_is_refused_and_its_target_untouched(log, tmp_path, dangling):
    target = tmp_path / "precious.txt"
    if not dangling:
        target.write_text("keep me")
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    line = _one_line(log("export", "--out", str(link), "--force", code=1).stderr)
    assert "is not a regular file (it is a symbolic link)" in line
    assert link.is_symlink()
    assert target.read_text() == "keep me" if not dangling else not target.exists()


# ---------------------------------------------------------------- --force
def test_an_existing_file_needs_force(log, tmp_path):
    out = tmp_path / "c.csv"
    out.write_text("last week's export")
    line = _one_line(log("export", "--out", str(out), code=1).stderr)
    assert "already exists: choose another name, or add --force to replace it" in line
    assert out.read_text() == "last week's export" and _names(tmp_path) == ["c.csv"]
    assert "exists" in log("export", "--out", str(out), "--json", code=1).stderr
    log("export", "--out", str(out), "--force")
    assert "Ada Quill" in out.read_text() and _names(tmp_path) == ["c.csv"]


def test_export_all_checks_every_file_before_writing_any(log, tmp_path):
    folder = tmp_path / "all"
    folder.mkdir()
    (folder / "flat.csv").write_text("old")
    line = _one_line(log("export", "all", "--out", str(folder), code=1).stderr)
    assert "flat.csv already exists" in line and _names(folder) == ["flat.csv"]
    log("export", "all", "--out", str(folder), "--force")
    assert _names(folder) == sorted(f"{t}.csv" for t in TABLES)
    zipped = tmp_path / "all.zip"
    zipped.write_bytes(b"old zip")
    assert "already exists" in _one_line(log("export", "all", "--out", str(zipped), code=1).stderr)
    assert zipped.read_bytes() == b"old zip"
    log("export", "all", "--out", str(zipped), "--force")
    assert zipped.read_bytes()[:2] == b"PK"


def test_the_rename_itself_refuses_a_file_that_appeared_meanwhile(store, tmp_path):
    """Checked at the start, and again by the rename (a hard link never overwrites)."""
    out = tmp_path / "c.csv"
    with pytest.raises(files.FieldlogError, match="already exists"):
        with files.atomic_text(out) as fh:
            fh.write("new")
            out.write_text("written by someone else meanwhile")
    assert out.read_text() == "written by someone else meanwhile" and _names(tmp_path) == ["c.csv"]


def test_without_hard_links_a_new_file_still_takes_its_name(store, tmp_path, monkeypatch):
    """FAT and exFAT have no hard links: a last look, then the rename."""

    def no_link(*_a, **_k):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_link)
    out = tmp_path / "c.csv"
    with files.atomic_text(out) as fh:
        fh.write("one")
    assert out.read_text() == "one"
    with pytest.raises(files.FieldlogError, match="already exists"):
        with files.atomic_text(out) as fh:
            fh.write("two")
    with files.atomic_text(out, force=True) as fh:
        fh.write("three")
    assert out.read_text() == "three" and _names(tmp_path) == ["c.csv"]


# ---------------------------------------------------------------- the temporary file
@pytest.mark.skipif(not POSIX, reason="symbolic links need privileges on Windows")
@pytest.mark.parametrize("nofollow", [True, False], ids=["O_NOFOLLOW", "without O_NOFOLLOW"])
def test_a_link_planted_at_the_temporary_name_is_never_followed(
    log, tmp_path, monkeypatch, nofollow
):
    """At the old fixed name (FILE.part) and at the very name the next export will pick
    (its random part guessed): the export goes elsewhere, the link's target is untouched.
    Without O_NOFOLLOW (forced: Windows has none) O_EXCL alone refuses the link."""
    if not nofollow:
        monkeypatch.setattr(files, "NOFOLLOW", 0)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "c.csv"
    (tmp_path / "c.csv.part").symlink_to(victim)
    guesses = iter(["deadbeef", "deadbeef", "0badf00d"])
    monkeypatch.setattr(files.secrets, "token_hex", lambda n: next(guesses))
    planted = files.temp_name(out)  # the name the export will try first
    planted.symlink_to(victim)
    log("export", "--out", str(out))
    assert victim.read_text() == "keep me"
    assert "Ada Quill" in out.read_text() and not out.is_symlink()
    assert planted.is_symlink() and (tmp_path / "c.csv.part").is_symlink()  # not ours: left
    assert _names(tmp_path) == sorted(["c.csv", "c.csv.part", planted.name, "victim.txt"])


def test_the_temporary_file_is_exclusive_and_owner_only(tmp_path):
    fd = files.private_fd(tmp_path / "x")
    os.close(fd)
    with pytest.raises(FileExistsError):
        files.private_fd(tmp_path / "x")
    if POSIX:
        assert stat.S_IMODE((tmp_path / "x").stat().st_mode) == 0o600


def test_a_killed_exports_leftover_is_removed_by_the_next_export(log, tmp_path):
    out = tmp_path / "c.csv"
    dead = out.with_name(f".c.csv.{(1 << 22) + 1}-0123abcd.part")  # no process has this id
    dead.write_text("half an export")
    log("export", "--out", str(out))
    assert not dead.exists() and _names(tmp_path) == ["c.csv"]


# ---------------------------------------------------------------- write errors
def test_a_full_disk_at_the_sync_is_one_line_and_leaves_nothing(log, tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    out = tmp_path / "c.csv"
    line = _one_line(log("export", "--out", str(out), code=1).stderr)
    assert line == f"Error: Cannot write {out}: No space left on device."
    assert _names(tmp_path) == []
    line = _one_line(log("export", "all", "--out", str(tmp_path / "a.zip"), code=1).stderr)
    assert "No space left on device" in line and _names(tmp_path) == []


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE as a small disk")
def test_a_real_write_error_in_a_real_process(tmp_path):
    """A file size limit makes the kernel refuse the write itself (EFBIG), as a full disk
    would (ENOSPC): one line, exit 1, no file and no temporary file."""
    import resource

    db = tmp_path / "log.db"
    r = run_fieldlog("--db", str(db), "demo", "--contacts", "300")
    assert r.returncode == 0, r.stderr
    outdir = tmp_path / "out"
    outdir.mkdir()
    out = outdir / "c.csv"

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    env = {**os.environ, "FIELDLOG_DB": str(db)}
    proc = subprocess.run(
        [sys.executable, "-m", "fieldlog", "export", "flat", "--out", str(out)],
        capture_output=True, text=True, env=env, preexec_fn=small_disk, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "Cannot write" in _one_line(proc.stderr) and _names(outdir) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_stdout_on_a_full_device_is_one_line(tmp_path):
    """``fieldlog export > /dev/full``: only written to (as any shell redirection does)."""
    db = tmp_path / "log.db"
    assert run_fieldlog("--db", str(db), "add", "Met Ada").returncode == 0
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "fieldlog", "--db", str(db), "export"],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 1
    assert "Cannot write the export to stdout: No space left on device" in _one_line(proc.stderr)


def test_a_killed_split_exports_scratch_folder_is_removed(tmp_path):
    from fieldlog.export import split

    dead = tmp_path / f"{split.SCRATCH_PREFIX}{(1 << 22) + 3}-abc"
    dead.mkdir()
    (dead / "parts.csv").write_text("half a table")
    mine = tmp_path / f"{split.SCRATCH_PREFIX}{os.getpid()}-abc"
    mine.mkdir()
    other = tmp_path / "fieldlog-exports-of-someone"
    other.mkdir()
    split.sweep_scratch(str(tmp_path))
    assert not dead.exists() and mine.exists() and other.exists()

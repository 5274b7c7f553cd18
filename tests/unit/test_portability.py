"""Each POSIX-only call fieldlog or its tests make has a fallback where it is missing (Windows,
some Unixes); forced here on Linux by taking the call away (monkeypatch)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time

import pytest

from fieldlog import export
from fieldlog.export import split, table
from tests.lib import portable


@pytest.fixture
def big(cli, monkeypatch):
    """A log big enough for the CLI to split its export across two processes."""
    import fieldlog.db.export_sql as store_mod

    cli("demo", "--contacts", "120")
    monkeypatch.setattr(store_mod, "EXPORT_SPLIT_MIN_ROWS", 10)


def _one_process(store, name: str = "contacts") -> str:
    buf = io.StringIO(newline="")
    export.write_table(store, name, buf, processes=1)
    return buf.getvalue()


def _spy_split(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = table.write_split

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(table, "write_split", spy)
    return calls


# ---------------------------------------------------------------------- export: fork, sendfile
def test_without_os_fork_the_export_is_one_process(cli, store, big, monkeypatch, tmp_path):
    monkeypatch.delattr(os, "fork")
    assert not split.can_split()
    calls = _spy_split(monkeypatch)
    out = tmp_path / "c.csv"
    cli("export", "--out", str(out))
    assert calls == [] and out.read_text(encoding="utf-8") == _one_process(store)


def test_with_fork_but_no_sendfile_the_split_copies_by_hand(cli, store, big, monkeypatch, tmp_path):
    monkeypatch.delattr(os, "sendfile")
    assert split.can_split()
    calls = _spy_split(monkeypatch)
    for name in ("contacts", "concerns"):
        out = tmp_path / f"{name}.csv"
        with export.atomic_text(out) as fh:  # the CLI writes in one process: ask for two
            export.write_table(store, name, fh, processes=2)
        assert out.read_text(encoding="utf-8") == _one_process(store, name)
    assert calls == [1, 1]  # the two-process path really ran, without sendfile


def test_the_split_falls_back_when_sendfile_refuses(tmp_path, monkeypatch):
    half = tmp_path / "half.bin"
    half.write_bytes(b"0123456789abcdef")

    def refuses(*_a):
        raise OSError(22, "Invalid argument")  # e.g. an O_APPEND output

    monkeypatch.setattr(os, "sendfile", refuses)
    with open(tmp_path / "out.bin", "w", encoding="utf-8", newline="") as out:
        out.write("head:")
        split.append_spans(out, half, [(10, 16), (0, 4)], "utf-8", "strict")
    assert (tmp_path / "out.bin").read_bytes() == b"head:abcdef0123"


def test_the_split_appends_to_a_stream_without_a_file(tmp_path):
    half = tmp_path / "half.bin"
    half.write_bytes("ab€cd".encode())
    buf = io.StringIO(newline="")
    split.append_spans(buf, half, [(0, 2), (2, 7)], "utf-8", "strict")
    assert buf.getvalue() == "ab€cd"


# ---------------------------------------------------------------------- scratch folder
def test_no_proc_mounts_means_no_memory_folder(monkeypatch):
    """Not Linux (no /proc/self/mounts): no tmpfs is known, so an encrypted log's export
    writes no temporary file at all (Store.scratch_dir is None)."""
    from fieldlog.db import scratch

    def missing(*_a, **_k):
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(scratch, "open", missing, raising=False)
    assert scratch.ram_dir() is None


# ---------------------------------------------------------------------- the tests' own helpers
def test_tzset_is_skipped_where_missing(monkeypatch):
    monkeypatch.delattr(time, "tzset")
    assert not portable.have_tzset()
    portable.tzset()  # no AttributeError: the zone stays as the process started


def _no_sigkill(monkeypatch) -> list[int]:
    """As on Windows: no signal.SIGKILL, and ``Popen.kill`` is TerminateProcess (here: the
    same hard stop, recorded; the real one needs SIGKILL on Linux)."""
    monkeypatch.delattr(signal, "SIGKILL")
    killed: list[int] = []

    def terminate(proc: subprocess.Popen) -> None:
        killed.append(proc.pid)
        os.kill(proc.pid, 9)

    monkeypatch.setattr(subprocess.Popen, "kill", terminate)
    return killed


def test_a_hard_kill_without_sigkill_terminates(monkeypatch):
    killed = _no_sigkill(monkeypatch)
    assert not portable.have_sigkill() and portable.killed_code() is None
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    portable.hard_kill(proc)
    assert proc.wait(timeout=30) != 0 and killed == [proc.pid]


def test_the_crash_harness_kills_without_sigkill(monkeypatch):
    from tests.lib import crash

    killed = _no_sigkill(monkeypatch)
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    run = crash.kill_after([], delay=0.5, cmd=sleeper)
    assert run.killed and len(killed) == 1 and run.returncode != 0
    quick = crash.kill_after([], delay=30, cmd=[sys.executable, "-c", "pass"])
    assert not quick.killed and quick.returncode == 0 and len(killed) == 1


def test_no_pty_is_seen(monkeypatch):
    monkeypatch.setitem(sys.modules, "pty", None)
    assert not portable.have_pty()
    monkeypatch.delitem(sys.modules, "pty")
    monkeypatch.delattr(os, "fork")
    assert not portable.have_pty()


def test_the_test_postgres_runs_as_us_without_pwd_or_geteuid(monkeypatch):
    from tests.lib import pg

    monkeypatch.setattr(os, "geteuid", lambda: 0, raising=False)
    monkeypatch.setitem(sys.modules, "pwd", None)  # root, but no pwd module
    assert pg._run_as() == (None, None)
    monkeypatch.delattr(os, "geteuid")  # Windows: no root at all
    assert pg._run_as() == (None, None)

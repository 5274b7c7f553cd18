"""What the encryption and backup tests share: the passphrase, file hashes, the one-line
error check, and another fieldlog process holding a log open."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

PASS = "correct horse battery"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its hash (to show nothing was touched)."""
    return {str(p.relative_to(folder)): digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]


HOLDER = """
import sys, time
from fieldlog.db.store import Store
s = Store.open(sys.argv[1], passphrase=sys.argv[2] or None)
s.contacts.count()
print("open", flush=True)
sys.stdin.readline()
print(s.contacts.count(), flush=True)
"""


def hold_open(path: Path, passphrase: str = ""):
    """Another fieldlog process (the TUI, say) with the log open, until its stdin closes.
    (A process apart: SQLite's locks do not see each other between the sqlite3 and
    sqlcipher3 libraries inside one process.)"""
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), passphrase],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "open"
    return proc


def release(proc) -> str:
    out, _ = proc.communicate("\n", timeout=30)
    assert proc.returncode == 0
    return out.strip()

"""What the tests use that only some systems have (officers run Windows and macOS too).

Each POSIX-only call is guarded here once: ``tzset()`` does nothing where ``time.tzset`` is
missing (Windows), ``hard_kill`` falls back to ``Popen.kill`` where there is no SIGKILL, and
the ``needs_*`` marks skip a test that cannot run without the thing it names, with the reason.
tests/unit/test_portability.py forces each fallback on Linux.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import time

import pytest


def have_tzset() -> bool:
    return hasattr(time, "tzset")


def tzset() -> None:
    """Apply a changed ``$TZ`` in this process (POSIX); elsewhere nothing: a test that needs a
    zone change in-process is marked :data:`needs_tzset`."""
    if have_tzset():
        time.tzset()


def have_sigkill() -> bool:
    return hasattr(signal, "SIGKILL")


def hard_kill(proc: subprocess.Popen) -> None:
    """Stop ``proc`` at once, no cleanup: SIGKILL on POSIX, ``TerminateProcess`` (what
    ``Popen.kill`` does) on Windows, which is as abrupt."""
    if have_sigkill():
        proc.send_signal(signal.SIGKILL)
    else:
        proc.kill()


def killed_code() -> int | None:
    """The exit code of a process :func:`hard_kill` stopped: ``-SIGKILL``; None where it cannot
    be told from an ordinary exit (Windows: 1, as for an error)."""
    return -signal.SIGKILL if have_sigkill() else None


def have_pty() -> bool:
    """A pseudo-terminal to run fieldlog on (its hidden passphrase prompt): POSIX only."""
    return (
        importlib.util.find_spec("pty") is not None
        and importlib.util.find_spec("termios") is not None
        and hasattr(os, "fork")
    )


needs_tzset = pytest.mark.skipif(
    not have_tzset(), reason="time.tzset is POSIX-only: the zone cannot change in-process"
)
needs_pty = pytest.mark.skipif(not have_pty(), reason="no pseudo-terminals (pty) here")
needs_sigkill = pytest.mark.skipif(not have_sigkill(), reason="no SIGKILL here")

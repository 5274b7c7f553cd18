"""LibreOffice for the tests that open our files in it (tests/export)."""

from __future__ import annotations

import os
import shutil

import pytest


def soffice_or_skip() -> str:
    """The ``soffice`` command: skipped without it on a developer's machine, a failure when
    ``CI`` is set (.ci/run installs it, so CI never skips these tests quietly)."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        message = "soffice (LibreOffice) is not installed: apt-get install libreoffice-calc-nogui"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{message} (CI is set: this test may not be skipped there)")
        pytest.skip(message)
    return exe

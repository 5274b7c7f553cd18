"""``fieldlog add`` stays quick (issue 14): rapidfuzz and the partners module are imported
only when a ``--refer`` agency has to be matched against the directory."""

from __future__ import annotations

import subprocess
import sys

import pytest


def modules_after(db: str, *args: str) -> set[str]:
    argv = ["fieldlog", "--db", db, *args]
    code = (
        f"import sys\nfrom fieldlog.cli import main\nsys.argv = {argv!r}\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\nelse:\n    code = 0\n"
        "print('CODE', code)\nprint(' '.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert any(line.startswith("CODE") for line in lines), out.stderr
    return set(lines[-1].split()) | {line for line in lines if line.startswith("CODE")}


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "x.db")
    for args in (["init", "--officer", "T"], ["org", "add", "Parks Dept"]):
        subprocess.run(
            [sys.executable, "-m", "fieldlog", "--db", path, *args],
            check=True,
            capture_output=True,
        )
    return path


@pytest.mark.slow
def test_add_imports_no_matching(db):
    loaded = modules_after(db, "add", "Quick one", "--concern", "noise:x")
    assert "CODE 0" in loaded
    assert "rapidfuzz" not in loaded and "fieldlog.partners" not in loaded
    # An agency that is a partner's name (any case) links without any matching either.
    loaded = modules_after(db, "add", "Quick two", "--refer", "parks dept:lights")
    assert "CODE 0" in loaded and "rapidfuzz" not in loaded
    # --new-agency: the officer said it is new, nothing to match.
    loaded = modules_after(db, "add", "Quick three", "--refer", "Parks Dpt:x", "--new-agency")
    assert "CODE 0" in loaded and "rapidfuzz" not in loaded


@pytest.mark.slow
def test_add_matches_a_name_that_needs_it(db):
    loaded = modules_after(db, "add", "Quick four", "--refer", "Parks Department:lights")
    assert "CODE 1" in loaded and "rapidfuzz" in loaded  # refused in a script, named

"""Layer boundaries as tests (harlequin's test_import_hygiene): the domain and storage never
import Textual, Typer or Rich, and the quick-entry path imports none of the heavy modules."""

from __future__ import annotations

import subprocess
import sys

import pytest


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_domain_and_storage_import_no_ui():
    loaded = modules_after(
        "import fieldlog.models, fieldlog.dates, fieldlog.clock, fieldlog.ids, fieldlog.demo, "
        "fieldlog.db.store, fieldlog.db.migrations, fieldlog.paths"
    )
    for banned in ("textual", "typer", "rich", "click"):
        assert banned not in loaded, banned


@pytest.mark.slow
def test_add_path_stays_light(tmp_path):
    db = tmp_path / "x.db"
    subprocess.run(
        [sys.executable, "-m", "fieldlog", "--db", str(db), "init", "--officer", "T"],
        check=True,
        capture_output=True,
    )
    argv = ["fieldlog", "--db", str(db), "add", "Quick one", "--concern", "noise:x"]
    loaded = modules_after(
        f"import sys\nfrom fieldlog.cli import main\nsys.argv = {argv!r}\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code\n"
    )
    for heavy in ("textual", "rich", "sqlite_utils", "platformdirs", "pluggy", "cryptography"):
        assert heavy not in loaded, heavy
    # Reading the audit back (verify, history, the witness) is not writing it.
    for reader in ("fieldlog.db.audit.check", "fieldlog.db.audit.consistency"):
        assert reader not in loaded, reader

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


# The packages the quick path never loads (issue 16): pydantic (Typer's TypeAdapters, built
# for every parameter of the run unless fieldlog.cli.coerce's light coercion takes them),
# Rich (drawing), Textual, sqlite-utils (migrations, the bulk paths).
QUICK_BANNED = ("pydantic", "pydantic_core", "rich", "textual", "sqlite_utils")


def run_main(db, *args: str) -> set[str]:
    """The modules loaded by one ``fieldlog --db DB ARGS`` run through the console script's
    entry point (in a fresh interpreter), which must succeed."""
    argv = ["fieldlog", "--db", str(db), *args]
    return modules_after(
        f"import sys\nfrom fieldlog.cli import main\nsys.argv = {argv!r}\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
    )


@pytest.fixture(scope="module")
def quick_log(tmp_path_factory):
    """A migrated log with one contact and a SQLite remote it has synced with once."""
    folder = tmp_path_factory.mktemp("quick")
    db, remote = folder / "x.db", folder / "dept.fieldlog"

    def run(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "fieldlog", "--db", str(db), *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    run("init", "--officer", "T")
    rid = run("add", "Met about the zanzibarite mural", "--concern", "noise:x")
    run("sync", str(remote))
    return db, rid, remote


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["add", "Quick one", "--concern", "noise:x", "--tag", "t", "--notes", "n"],
        ["search", "zanzibarite", "--json"],
        ["list", "--json", "--limit", "5"],
        ["show", "{rid}", "--json"],
        ["sync", "{remote}", "--json"],
        ["followups", "--json"],
    ],
    ids=lambda a: a[0],
)
def test_quick_commands_load_no_heavy_package(quick_log, args):
    """Each quick command, up to its output (JSON: no drawing), loads none of
    :data:`QUICK_BANNED` and only the command group module it runs."""
    db, rid, remote = quick_log
    loaded = run_main(db, *(a.format(rid=rid, remote=remote) for a in args))
    for heavy in QUICK_BANNED:
        assert heavy not in loaded, heavy
    groups = {m for m in loaded if m.startswith("fieldlog.cli.")}
    helpers = {"fieldlog.cli.common", "fieldlog.cli.params", "fieldlog.cli.quick"}
    assert "typer" not in loaded  # the quick path runs them without Typer (cli/quick.py)
    module = "fieldlog.cli.sync" if args[0] == "sync" else "fieldlog.cli.entry"
    assert groups - helpers == {module}, sorted(groups)


@pytest.mark.slow
@pytest.mark.parametrize("args", [["search", "zanzibarite"], ["list"], ["show", "{rid}"]])
def test_quick_commands_draw_with_rich_only(quick_log, args):
    """On screen the same commands draw with Rich (their output) and still load no pydantic,
    Textual or sqlite-utils."""
    db, rid, _remote = quick_log
    loaded = run_main(db, *(a.format(rid=rid) for a in args))
    for heavy in ("pydantic", "textual", "sqlite_utils"):
        assert heavy not in loaded, heavy

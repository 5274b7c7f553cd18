"""The quick path (fieldlog/cli/quick.py): a line it takes gives the command's function exactly
what Typer gives it, a line it is not sure of goes to Typer, and ``fieldlog add`` runs without
importing Typer, pydantic, Rich, Textual or sqlite-utils."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fieldlog.cli import quick
from fieldlog.cli.params import Commands

QUICK_WORDS = ("add", "list", "show", "search", "sync", "followups")


def _typer_values(word: str, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """What Typer passes the function of ``word`` for ``argv`` (None: Typer refuses it)."""
    import fieldlog.cli as cli

    declared = quick._declared(word)
    assert declared is not None
    seen: dict[str, Any] = {}

    def capture(**kw: Any) -> None:
        kw.pop("ctx", None)
        seen.update(kw)

    app = cli.app_for(word)
    assert app is not None
    for info in app.registered_commands:
        if info.callback is declared.callback:
            original = info.callback
            capture.__annotations__ = original.__annotations__  # type: ignore[attr-defined]
            monkeypatch.setattr(info, "callback", _with_signature(capture, original))
    result = CliRunner().invoke(app, ["--db", "/nonexistent/x.db", word, *argv])
    return seen if result.exit_code == 0 else None


def _with_signature(fn: Any, like: Any) -> Any:
    import functools

    wrapped = functools.wraps(like)(lambda *a, **kw: fn(**kw))
    return wrapped


def _quick_values(argv: list[str]) -> Any:
    planned = quick.plan(argv)
    if planned is None:
        return None
    return planned.values


LINES = [
    ["add", "Met x"],
    ["add", "Met x", "--tag", "a", "--tag=b", "--hood", "Elm", "--json"],
    ["add", "-", "--notes", "-"],
    ["add", "--name", "Ann", "Met", "--concern", "noise:loud", "--refer", "A:b"],
    ["add", "Met", "--new-agency", "--problem", "p1", "--problem", "p2", "--at", "2h ago"],
    ["add", "Met", "--hood="],
    ["add", ""],
    ["list", "--limit", "5", "--hood", "Elm"],
    ["list", "--limit", "+7"],
    ["show", "01abcdef"],
    ["search", "the", "--limit", "3", "--json"],
    ["sync", "--held"],
    ["sync", "dept", "--replay", "--json"],
    ["followups", "--until", "friday"],
]

FALLBACK = [
    ["add", "--help"],
    ["add", "-h"],
    ["add"],
    ["add", "a", "b"],
    ["add", "--", "-x"],
    ["add", "x", "--hood"],
    ["add", "x", "--hood", "--json"],
    ["add", "x", "--json=1"],
    ["add", "x", "--nope"],
    ["list", "--limit", "1_000"],
    ["list", "--limit", " 5"],
    ["list", "-n5"],
    ["demo", "--contacts", "3"],
    ["concern", "list"],
    ["--version"],
    [],
]


@pytest.mark.parametrize("argv", LINES, ids=" ".join)
def test_a_line_it_takes_gives_what_typer_gives(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = _quick_values(argv)
    assert mine is not None, "the quick path should take this line"
    assert mine == _typer_values(argv[0], argv[1:], monkeypatch)


@pytest.mark.parametrize("argv", FALLBACK, ids=lambda a: " ".join(a) or "(nothing)")
def test_a_line_it_is_not_sure_of_goes_to_typer(argv: list[str]) -> None:
    assert quick.plan(argv) is None


WORDS = st.sampled_from(
    ["x", "-", "", "--tag", "--hood", "--json", "--name", "--limit", "-n", "3", "-3", "--db",
     "a.db", "--notes", "--tag=t", "--", "--new-agency", "--concern", "c:d", "1_0", "-x"]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(word=st.sampled_from(["add", "list", "search", "show"]), words=st.lists(WORDS, max_size=7))
def test_generated_lines_agree_with_typer(word: str, words: list[str]) -> None:
    mine = _quick_values([word, *words])
    if mine is None:
        return  # Typer's to parse
    with pytest.MonkeyPatch.context() as mp:
        theirs = _typer_values(word, words, mp)
    assert theirs is not None, f"the quick path took a line Typer refuses: {words}"
    assert mine == theirs


def test_every_quick_word_is_declared_without_typer() -> None:
    for word in QUICK_WORDS:
        declared = quick._declared(word)
        assert declared is not None, word
        assert quick.specs_of(declared) is not None, word
    import fieldlog.cli.entry as entry

    assert isinstance(entry.app, Commands)


def test_no_param_record_reaches_typer() -> None:
    """Every ``params.Option``/``Argument`` is turned into Typer's as the CLI is built: one
    left over would make Typer take an option for an argument, silently."""
    from typing import get_args, get_origin

    from fieldlog.cli import build_app
    from fieldlog.cli.params import Param

    def walk(app: Any) -> Any:
        for info in app.registered_commands:
            yield info.callback
        if app.registered_callback:
            yield app.registered_callback.callback
        for group in app.registered_groups:
            yield from walk(group.typer_instance)

    for callback in walk(build_app()):
        for hint in getattr(callback, "__annotations__", {}).values():
            if get_origin(hint) is not None and not isinstance(hint, str):
                assert not any(isinstance(a, Param) for a in get_args(hint)[1:]), callback


def _run(args: list[str], tmp_path: Any) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys; from fieldlog.cli import main\n"
        "try:\n    main()\nfinally:\n"
        "    bad = [m for m in ('typer', 'pydantic', 'rich', 'textual', 'sqlite_utils')"
        " if m in sys.modules]\n"
        "    print('LOADED', ' '.join(bad), file=sys.stderr)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, "--db", str(tmp_path / "q.db"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_add_runs_without_typer_and_the_heavy_libraries(tmp_path: Any) -> None:
    done = _run(["add", "Met the shop owner", "--hood", "Elm", "--tag", "a"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip()) >= 6
    assert "Created a new log" in done.stderr  # (making a log migrates: sqlite-utils)
    again = _run(["add", "Met the shop owner again", "--concern", "noise:loud"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stderr.strip() == "LOADED", again.stderr  # none of them
    listed = _run(["search", "shop", "--json"], tmp_path)
    assert listed.returncode == 0 and "shop owner" in listed.stdout
    assert "typer" not in listed.stderr.split("LOADED")[-1]


def test_errors_on_the_quick_path_are_one_line(tmp_path: Any) -> None:
    missing = _run(["list"], tmp_path)
    assert missing.returncode != 0
    assert missing.stderr.startswith("Error: No log at"), missing.stderr
    assert not (tmp_path / "q.db").exists()  # a reading command makes no log
    _run(["add", "x"], tmp_path)
    bad = _run(["list", "--limit", "0"], tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("Error: --limit must be")
    twice = _run(["list", "--db", str(tmp_path / "other.db")], tmp_path)
    assert twice.returncode != 0 and "--db is given twice" in twice.stderr
    usage = _run(["add", "x", "--nope"], tmp_path)  # Typer's words, via the fallback
    assert usage.returncode == 2 and "No such option" in usage.stderr

"""``fieldlog edit ID`` with no options opens the contact in ``$EDITOR``; ``add -`` and
``--notes -`` read stdin. The editor here is a small Python script (this interpreter), run the
way a real one is."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from fieldlog.cli import editor

SCRIPT = """\
import json, os, sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
log = os.environ.get("EDIT_LOG")
if log:
    open(log, "a", encoding="utf-8").write(text + "\\n=====\\n")
for old, new in json.loads(os.environ["EDIT_REPLACE"]):
    text = text.replace(old, new)
open(path, "w", encoding="utf-8").write(text)
sys.exit(int(os.environ.get("EDIT_EXIT", "0")))
"""


def command(*words: str) -> str:
    """A command line as the platform's shell reads it."""
    if sys.platform == "win32":
        return subprocess.list2cmdline(list(words))
    return " ".join(shlex.quote(w) for w in words)


@pytest.fixture
def fake_editor(tmp_path, monkeypatch):
    script = tmp_path / "fake_editor.py"
    script.write_text(SCRIPT, encoding="utf-8")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", command(sys.executable, str(script)))
    monkeypatch.setenv("EDIT_LOG", str(tmp_path / "seen.txt"))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()

    def replace(*pairs: tuple[str, str], exit_code: int = 0) -> Path:
        monkeypatch.setenv("EDIT_REPLACE", json.dumps(pairs))
        monkeypatch.setenv("EDIT_EXIT", str(exit_code))
        return tmp_path / "seen.txt"

    return replace


def scratch_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "tmp").glob("fieldlog-contact-*"))


def test_edit_without_options_opens_the_editor_and_applies_what_changed(cli, fake_editor, tmp_path):
    cid = cli.new("add", "Met the owner", "--hood", "Eastside", "--notes", "Line one\nLine two")
    seen = fake_editor(
        ("summary: Met the owner", "summary: Met the owner of the shop"),
        ("tags:", "tags: noise, Late Night"),
        ("Line two", "Line two\nLine three"),
        ("follow up:", "follow up: 2099-01-05"),
    )
    out = cli("edit", cid).stdout
    assert out.startswith("Updated contact")
    text = seen.read_text(encoding="utf-8")
    assert "summary: Met the owner\n" in text and "neighborhood: Eastside\n" in text
    assert "notes:\nLine one\nLine two\n" in text
    c = cli.json("show", cid)
    assert c["summary"] == "Met the owner of the shop"
    assert c["tags"] == ["noise", "late-night"]
    assert c["notes"] == "Line one\nLine two\nLine three"
    assert c["neighborhood"] == "Eastside" and c["follow_up_on"] == "2099-01-05"
    assert scratch_files(tmp_path) == []  # the file is gone


def test_nothing_changed_says_so_and_writes_nothing(cli, fake_editor, store, tmp_path):
    cid = cli.new("add", "Met the owner")
    fake_editor()
    before = store.scalar("SELECT count(*) FROM changes")
    assert cli("edit", cid).stdout.strip() == "No change."
    assert store.scalar("SELECT count(*) FROM changes") == before
    assert scratch_files(tmp_path) == []


def test_a_cleared_value_clears_the_field(cli, fake_editor):
    cid = cli.new("add", "Met the owner", "--name", "Ana Ruiz", "--location", "Corner store")
    fake_editor(("person: Ana Ruiz", "person:"), ("location: Corner store", "location: "))
    cli("edit", cid)
    c = cli.json("show", cid)
    assert c["person_name"] is None and c["location"] is None


def test_a_bad_value_is_one_line_and_the_text_is_kept(cli, fake_editor, tmp_path):
    cid = cli.new("add", "Met the owner")
    fake_editor(
        ("summary: Met the owner", "summary: My careful words"), ("kind: resident", "kind: alien")
    )
    result = cli("edit", cid, code=1)
    err = result.stderr.strip()
    assert err.count("\n") == 0 and err.startswith("Error: ")
    assert "alien" in err and "your text is kept in" in err
    [kept] = scratch_files(tmp_path)
    assert str(kept) in err
    assert "summary: My careful words" in kept.read_text(encoding="utf-8")
    assert cli.json("show", cid)["summary"] == "Met the owner"  # nothing written


def test_a_broken_label_is_refused_with_the_line(cli, fake_editor, tmp_path):
    cid = cli.new("add", "Met the owner")
    fake_editor(("neighborhood:", "neighbourhood:"))
    err = cli("edit", cid, code=1).stderr
    assert "is not 'label: value'" in err and "Line " in err
    assert len(scratch_files(tmp_path)) == 1


def test_an_editor_that_fails_changes_nothing(cli, fake_editor, tmp_path):
    cid = cli.new("add", "Met the owner")
    fake_editor(("summary: Met the owner", "summary: Half typed"), exit_code=3)
    err = cli("edit", cid, code=1).stderr
    assert "stopped with exit code 3, so nothing was changed" in err
    assert cli.json("show", cid)["summary"] == "Met the owner"
    [kept] = scratch_files(tmp_path)  # something was typed: kept
    assert "Half typed" in kept.read_text(encoding="utf-8")


def test_without_an_editor_or_a_terminal_the_old_message(cli, monkeypatch):
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    cid = cli.new("add", "Met the owner")
    assert "Nothing to change: give at least one option" in cli("edit", cid, code=1).stderr


def test_editor_choice(monkeypatch):
    monkeypatch.setenv("VISUAL", "nano -w")
    monkeypatch.setenv("EDITOR", "ed")
    assert editor.editor_command() == "nano -w"
    monkeypatch.delenv("VISUAL")
    assert editor.editor_command() == "ed"
    monkeypatch.delenv("EDITOR")
    monkeypatch.setattr(sys, "platform", "win32")
    assert editor.editor_command() == "notepad"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert editor.editor_command() == "vi"


def test_windows_runs_the_editor_through_its_shell(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("EDITOR", '"C:\\Program Files\\Ed\\ed.exe" -w')
    monkeypatch.setattr(subprocess, "call", lambda cmd, **kw: calls.append((cmd, kw)) or 0)
    editor.launch(tmp_path / "c.txt")
    [(cmd, kw)] = calls
    assert cmd == f'"C:\\Program Files\\Ed\\ed.exe" -w "{tmp_path / "c.txt"}"' and kw["shell"]


def test_an_encrypted_log_without_a_memory_folder_refuses_the_editor(store, monkeypatch):
    monkeypatch.setattr(type(store), "encrypted", property(lambda self: True))
    monkeypatch.setattr(type(store), "scratch_dir", lambda self: None)
    cid = store.contacts.add({"summary": "Met the owner"})
    with pytest.raises(Exception, match="no memory-backed folder"):
        editor.edit_in_editor(store, cid)


def test_the_text_round_trips():
    c = {
        "short_id": "01a2b3c4", "officer": "Dana", "created_at": "2026-03-01T12:00:00.000Z",
        "summary": "Met: the owner", "occurred_at": "2026-03-01T12:00:00Z", "kind": "resident",
        "person_name": None, "organization_name": "Parks Dept", "neighborhood": "Eastside",
        "beat": None, "location": None, "tags": ["a", "b"], "follow_up_on": None,
        "notes": "notes: are here\n# not a comment", "concerns": [], "referrals": [],
    }  # fmt: skip
    text = editor.contact_text(c)
    assert editor.changes(editor.shown(c), editor.parse(text)) == {}
    parsed = editor.parse(text)
    assert parsed["summary"] == "Met: the owner" and parsed["notes"] == c["notes"]


# ---------------------------------------------------------------------- add -
def new_id(result) -> str:
    return json.loads(result.stdout)["id"]


def test_add_dash_reads_the_summary_from_stdin(cli):
    cid = new_id(cli("add", "-", "--hood", "Eastside", "--json", input="Met the owner\n"))
    c = cli.json("show", cid)
    assert c["summary"] == "Met the owner" and c["notes"] is None


def test_add_dash_takes_the_lines_after_the_first_as_notes(cli):
    text = "Met the owner\nShe says the music\nruns past midnight\n"
    cid = new_id(cli("add", "-", "--json", input=text))
    c = cli.json("show", cid)
    assert c["summary"] == "Met the owner"
    assert c["notes"] == "She says the music\nruns past midnight"


def test_notes_dash_reads_the_notes(cli):
    cid = new_id(cli("add", "Met the owner", "--notes", "-", "--json", input="Long\nnotes\n"))
    assert cli.json("show", cid)["notes"] == "Long\nnotes"


def test_stdin_mistakes_are_one_line(cli, store):
    assert "read nothing from stdin" in cli("add", "-", input="", code=1).stderr
    assert "Only one of" in cli("add", "-", "--notes", "-", input="x", code=1).stderr
    err = cli("add", "-", "--notes", "n", input="one\ntwo\n", code=1).stderr
    assert "put the notes in one place" in err
    assert store.contacts.count() == 0

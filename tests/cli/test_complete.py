"""Shell completion: ids with their summary, vocabularies, earlier values, tables, remotes;
instant, never a traceback, never a new file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fieldlog import records
from fieldlog.cli.complete import KINDS, candidates, completer
from fieldlog.db.store import Store


class Ctx:
    """What a completer reads of Click's context: the parsed ``params`` up the chain."""

    def __init__(self, db: Path | None = None, parent: Ctx | None = None) -> None:
        self.params = {"db": str(db) if db else None}
        self.parent = parent


def values(kind: str, incomplete: str = "", db: Path | None = None) -> list[str]:
    return [v for v, _help in candidates(kind, Ctx(db), incomplete)]


def tab(words: str, env: dict[str, str], shell: str = "bash") -> str:
    """What the shell gets back for a Tab at the end of ``words`` (Click's protocol)."""
    full = {**os.environ, **env, "_FIELDLOG_COMPLETE": f"complete_{shell}"}
    if shell == "bash":
        full["COMP_WORDS"] = words
        full["COMP_CWORD"] = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    else:
        full["_TYPER_COMPLETE_ARGS"] = words
    out = subprocess.run(
        [sys.executable, "-m", "fieldlog"], env=full, capture_output=True, text=True, check=True
    )
    assert out.stderr == ""
    return out.stdout.strip()


@pytest.fixture
def log(store: Store, db_path: Path) -> dict[str, str]:
    store.set_officer("Dana Ruiz")
    cid = store.contacts.add(
        {"summary": "Met the owner of the corner store", "neighborhood": "Eastside",
         "tags": ["noise", "late-night"]},
        concerns=[{"category": "noise", "description": "late music"}],
    )  # fmt: skip
    with store.write() as tx:  # as an import or a sync could have brought it
        tx.insert(
            "contacts",
            {"summary": "Walked \x1b[2J the [bold]block", "neighborhood": "Eastside",
             "occurred_at": "2026-03-01T12:00:00Z", "kind": "resident"},
        )  # fmt: skip
    store.contacts.add({"summary": "Phone call", "neighborhood": "North End"})
    kid = store.contacts.get(cid)["concerns"][0]["id"]
    return {"contact": cid, "concern": kid}


def test_show_completes_contact_ids_with_their_summary(log, store, db_path):
    out = tab("fieldlog show ", {"FIELDLOG_DB": str(db_path)}, shell="zsh")
    short = store.records.short_id("contacts", log["contact"])  # as fieldlog list shows it
    assert f'"{short}":"Met the owner of the corner store"' in out
    bash = tab(f"fieldlog show {log['contact'][:4]}", {"FIELDLOG_DB": str(db_path)}).split()
    assert len(bash) == 3 and all(len(v) >= 10 for v in bash)


def test_db_on_the_command_line_is_the_log_read(log, db_path, tmp_path):
    other = tmp_path / "empty.db"
    Store.open(other).close()
    env = {"FIELDLOG_DB": str(other)}
    assert tab("fieldlog show ", env) == ""
    assert log["contact"][:10] in tab(f"fieldlog --db {db_path} show ", env)
    assert log["contact"][:10] in tab(f"fieldlog show --db {db_path} ", env)  # after the command


def test_ids_and_their_help(log, db_path):
    items = dict(candidates("contact_id", Ctx(db_path), log["contact"][:6]))
    [(short, summary)] = [(k, v) for k, v in items.items() if log["contact"].startswith(k)]
    assert summary == "Met the owner of the corner store"
    assert values("concern_id", db=db_path) == [
        v for v in values("concern_id", db=db_path) if log["concern"].startswith(v)
    ]
    assert dict(candidates("concern_id", Ctx(db_path), ""))[
        values("concern_id", db=db_path)[0]
    ] == ("noise: late music")
    assert values("contact_id", "XYZ", db=db_path) == []  # not hex: nothing
    # typed in capitals: offered as typed so the shell keeps it
    upper = log["contact"][:6].upper()
    assert all(v.startswith(upper) for v in values("contact_id", upper, db=db_path))


def test_help_text_is_safe_for_a_terminal(log, db_path):
    helps = [h for _v, h in candidates("contact_id", Ctx(db_path), "")]
    walked = next(h for h in helps if h.startswith("Walked"))
    assert "\x1b" not in walked and "\\x1b" in walked and "[" not in walked.replace("\\x1b", "")


def test_vocabularies_tables_and_earlier_values(log, db_path):
    assert values("kind", "re") == ["resident"]
    assert "mental_health" in values("category")
    assert values("priority") == ["low", "normal", "high", "urgent"]
    assert values("referral_status", "un") == ["unreachable"]
    assert values("service", "vic") == ["victim_services"]
    assert values("table") == [*records.TABLES, "flat", "all"]
    assert values("hood", "", db=db_path) == ["Eastside", "North End"]
    assert values("hood", "east", db=db_path) == ["eastside"]  # matched in any case
    assert values("tag", "late", db=db_path) == ["late-night"]
    assert values("officer", db=db_path) == ["Dana Ruiz"]


def test_remotes_with_their_place_and_no_password(store, db_path, tmp_path):
    store.sync.add_remote("dept", str(tmp_path / "dept.fieldlog"))
    store.sync.add_remote("county", "postgresql://dana:s3cret@db.example/fieldlog")
    got = dict(candidates("remote", Ctx(db_path), ""))
    assert set(got) == {"dept", "county"}
    assert "s3cret" not in got["county"] and "dana:***@" in got["county"]
    assert list(dict(candidates("remote", Ctx(db_path), "d"))) == ["dept"]


def test_a_missing_log_offers_vocabularies_and_creates_nothing(tmp_path):
    missing = tmp_path / "no" / "such.db"
    for kind in KINDS:
        candidates(kind, Ctx(missing), "")
    assert values("kind", "ph", db=missing) == ["phone"]
    assert not missing.parent.exists()
    out = tab(f"fieldlog --db {missing} show ", {})
    assert out == "" and not missing.parent.exists()


def test_an_encrypted_or_broken_log_answers_nothing_without_a_traceback(tmp_path):
    enc = tmp_path / "enc.db"
    enc.write_bytes(os.urandom(4096))  # what SQLCipher's file looks like
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    for path in (enc, junk):
        for kind in KINDS:
            assert isinstance(candidates(kind, Ctx(path), ""), list)
        assert values("contact_id", db=path) == []
    assert candidates("kind", object(), "") != []  # a context without params: still fine


def test_completer_for_typer(log, db_path):
    fn = completer("contact_id")
    assert fn(Ctx(db_path), "") and fn.__name__ == "complete_contact_id"
    with pytest.raises(ValueError):
        completer("nonsense")


def test_the_root_offers_to_install_completion(cli):
    out = cli("--help").stdout
    assert "--install-completion" in out and "--show-completion" in out


def test_every_group_completes_its_records_words_tables_and_remotes(log, db_path, tmp_path):
    """The other groups' parameters get their completers by name (fieldlog.cli.complete.attach):
    a remote after `sync`, a table after `export`, a concern's status, a concern id, a
    partner kind."""
    env = {"FIELDLOG_DB": str(db_path), "FIELDLOG_CONFIG": str(tmp_path / "config.toml")}
    subprocess.run(
        [sys.executable, "-m", "fieldlog", "remote", "add", "dept", str(tmp_path / "d.fl")],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    assert tab("fieldlog sync ", env).split() == ["dept"]
    assert "concerns" in tab("fieldlog export ", env).split()
    assert tab("fieldlog concern list --status ", env).split()[:2] == ["open", "in_progress"]
    assert tab("fieldlog referral list --status ", env).split()[0] == "made"
    assert "faith" in tab("fieldlog org list --kind ", env).split()
    short = tab("fieldlog concern update ", env).split()
    assert short and log["concern"].startswith(short[0])

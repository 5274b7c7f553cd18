"""Bad input, fuzzed: random arguments to the writing and reading commands, and random CSV
files to import. Whatever comes in: exit code 0, 1 or 2, never a traceback, a failed command
changes nothing, and the log always verifies (audit chain and rows).

The number of cases run is printed at the end of a plain ``pytest`` run ("fuzz and crash
cases", counted in tests/lib/run.py, shown by tests/conftest.py).
"""

from __future__ import annotations

import csv
import io
import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldlog import models
from fieldlog.cli import app
from fieldlog.db import audit
from fieldlog.db.store import Store
from tests.lib.run import RUN_COUNTS, run_fieldlog
from tests.lib.snapshot import snapshot

# FIELDLOG_FUZZ_SCALE=10 runs ten times as many cases (a deeper run before a release).
SCALE = float(os.environ.get("FIELDLOG_FUZZ_SCALE", "1"))


def scaled(n: int) -> int:
    return max(1, int(n * SCALE))


FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NASTY = [
    "", " ", "-", "--", "'", '"', "\\", "%s", "{}", "[red]x[/]", "[", "=1+1", "+1", "@x", "\x00",
    "\n", "\r\n", "\t", "é", "🚓", "NULL", "0", "-1", "1e999", "nan", "x" * 600, "y" * 5000,
    "a:b", ":", "noise:", ":text", "a;b", "a,b", "DROP TABLE contacts;--", "*", "NOT", "AND",
]  # fmt: skip
TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40), st.sampled_from(NASTY)
)
WHEN = st.one_of(
    st.sampled_from(
        [
            "now", "today", "yesterday", "tomorrow", "yesterday 14:30", "2h ago", "in 3d", "3d",
            "7d", "2w", "90m", "monday", "last fri", "next tue 9:00", "14:30", "2026-11-24",
            "2026-11-24 14:30", "2026-11-24T14:30:00Z", "2026-02-30", "2026-13-45",
            "yesterday 25:99", "0000-01-01", "9999-12-31", "1900-01-01", "in 3d ago", "none",
            "clear", "-", "99999999d", "1e9h",
        ]
    ),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    TEXT,
)  # fmt: skip
KIND = st.one_of(st.sampled_from(models.CONTACT_KINDS), TEXT)
CATEGORY = st.one_of(st.sampled_from(models.CONCERN_CATEGORIES), st.just("Mental Health"), TEXT)
PAIR = st.one_of(
    st.builds(lambda c, t: f"{c}:{t}", CATEGORY, TEXT),
    st.builds(lambda a, t: f"{a}:{t}", TEXT, TEXT),
    TEXT,
)
NUMBER = st.one_of(st.integers(-5, 300).map(str), TEXT)


def opts(pairs: dict[str, st.SearchStrategy], *, max_size: int = 5) -> st.SearchStrategy:
    """A list of ``[--option, value, ...]`` drawn from ``pairs``."""
    one = st.sampled_from(sorted(pairs)).flatmap(
        lambda name: pairs[name].map(lambda v, name=name: [name, v])
    )
    return st.lists(one, max_size=max_size).map(lambda xs: [a for pair in xs for a in pair])


ADD_OPTS = {
    "--name": TEXT, "--kind": KIND, "--org": TEXT, "--hood": TEXT, "--beat": TEXT,
    "--location": TEXT, "--at": WHEN, "--tag": TEXT, "--concern": PAIR, "--refer": PAIR,
    "--follow-up": WHEN, "--notes": TEXT,
}  # fmt: skip
EDIT_OPTS = {
    "--summary": TEXT, "--name": TEXT, "--kind": KIND, "--org": TEXT, "--hood": TEXT,
    "--beat": TEXT, "--location": TEXT, "--at": WHEN, "--notes": TEXT, "--tag": TEXT,
    "--add-tag": TEXT, "--remove-tag": TEXT, "--follow-up": WHEN,
}  # fmt: skip
CONCERN_OPTS = {
    "--status": st.one_of(st.sampled_from(models.CONCERN_STATUSES), TEXT),
    "--priority": st.one_of(st.sampled_from(models.PRIORITIES), TEXT),
    "--resolution": TEXT, "--category": CATEGORY, "--description": TEXT,
}  # fmt: skip
REFERRAL_OPTS = {
    "--status": st.one_of(st.sampled_from(models.REFERRAL_STATUSES), TEXT),
    "--outcome": TEXT, "--follow-up": WHEN, "--reason": TEXT,
    "--service": st.one_of(st.sampled_from(models.REFERRAL_SERVICES), TEXT),
}  # fmt: skip
ORG_OPTS = {
    "--kind": st.one_of(st.sampled_from(models.ORG_KINDS), TEXT), "--contact-person": TEXT,
    "--phone": TEXT, "--email": TEXT, "--address": TEXT, "--hood": TEXT, "--services": TEXT,
    "--notes": TEXT,
}  # fmt: skip
LIST_OPTS = {
    "--since": WHEN, "--until": WHEN, "--hood": TEXT, "--officer": TEXT, "--tag": TEXT,
    "--kind": KIND, "-n": NUMBER,
}  # fmt: skip
JSON = st.sampled_from([[], ["--json"]])
YES = st.sampled_from([[], ["--yes"]])


@pytest.fixture
def seeded(cli):
    """A log with one of each record; the ids the fuzzed commands aim at."""
    cli("init", "--officer", "Ofc Fuzz")
    cid = cli.new("add", "Seed contact", "--concern", "noise:loud", "--refer", "Parks:lights")
    cli("org", "add", "Parks Dept", "--services", "youth")
    contact = cli.json("show", cid)
    return {
        "contact": cid,
        "concern": contact["concerns"][0]["id"],
        "referral": contact["referrals"][0]["id"],
    }


def ref(full: str) -> st.SearchStrategy:
    """An id as a person might type it: whole, short, shouting, wrong, or any text."""
    return st.one_of(
        st.sampled_from([full, full[:10], full[:6], full.upper(), full[:4], "ffffff", "zzzzzz"]),
        TEXT,
    )


class Runner:
    """Runs one fuzzed command and checks the rules; counts the cases."""

    def __init__(self, cli, db_path, name: str) -> None:
        self.runner = cli.runner
        self.db_path = db_path
        self.name = name

    def __call__(self, argv: list[str]) -> int:
        before = snapshot(self.db_path)
        result = self.runner.invoke(app, argv)
        key = f"fuzz: {self.name}"
        RUN_COUNTS[key] = RUN_COUNTS.get(key, 0) + 1
        shown = f"fieldlog {argv!r} -> {result.exit_code}\n{result.stdout}\n{result.stderr}"
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{shown}\n{result.exception!r}"
        )
        assert result.exit_code in (0, 1, 2), shown
        assert "Traceback" not in result.stdout + result.stderr, shown
        if result.exit_code != 0:
            assert snapshot(self.db_path) == before, f"a failed command wrote: {shown}"
            said = (result.stderr + result.stdout).strip()  # usage help goes to stdout
            assert said, f"a failed command said nothing: {shown}"
        with Store.open(self.db_path) as s:
            rep = audit.verify(s.conn)
        assert rep.ok, f"after {shown}:\n" + "\n".join(rep.problems)
        return result.exit_code


@pytest.mark.slow
@settings(FUZZ, max_examples=scaled(80))
@given(data=st.data())
def test_fuzz_add(cli, db_path, seeded, data):
    run = Runner(cli, db_path, "add")
    argv = ["add", data.draw(TEXT, "summary"), *data.draw(opts(ADD_OPTS), "options")]
    run(argv + data.draw(JSON))


@pytest.mark.slow
@settings(FUZZ, max_examples=scaled(100))
@given(data=st.data())
def test_fuzz_edits(cli, db_path, seeded, data):
    """edit, concern add / update, refer, referral update, org add / edit, delete."""
    run = Runner(cli, db_path, "edit and update commands")
    cid, kid, rid = seeded["contact"], seeded["concern"], seeded["referral"]
    kinds = {
        "edit": lambda: ["edit", data.draw(ref(cid)), *data.draw(opts(EDIT_OPTS))],
        "concern add": lambda: [
            "concern", "add", data.draw(ref(cid)), data.draw(CATEGORY), data.draw(TEXT),
            *data.draw(opts({"--priority": CONCERN_OPTS["--priority"]}, max_size=1)),
        ],
        "concern update": lambda: [
            "concern", "update", data.draw(ref(kid)), *data.draw(opts(CONCERN_OPTS)),
        ],
        "refer": lambda: [
            "refer", data.draw(ref(cid)), data.draw(TEXT),
            *data.draw(opts({**REFERRAL_OPTS, "--concern": ref(kid)}, max_size=3)),
        ],
        "referral update": lambda: [
            "referral", "update", data.draw(ref(rid)), *data.draw(opts(REFERRAL_OPTS)),
        ],
        "org add": lambda: ["org", "add", data.draw(TEXT), *data.draw(opts(ORG_OPTS))],
        "org edit": lambda: [
            "org", "edit", data.draw(st.one_of(st.just("Parks Dept"), TEXT)),
            *data.draw(opts({**ORG_OPTS, "--name": TEXT})),
        ],
        "delete": lambda: ["delete", data.draw(ref(cid)), *data.draw(YES)],
    }  # fmt: skip
    kind = data.draw(st.sampled_from(sorted(kinds)), "command")
    run(kinds[kind]() + data.draw(JSON))


@pytest.mark.slow
@settings(FUZZ, max_examples=scaled(50))
@given(data=st.data())
def test_fuzz_reads(cli, db_path, seeded, data):
    """Reading commands with random filters: list --since, search, followups, report,
    history, purge --dry-run."""
    run = Runner(cli, db_path, "read commands")
    kinds = {
        "list": lambda: ["list", *data.draw(opts(LIST_OPTS))],
        "search": lambda: ["search", data.draw(TEXT)],
        "followups": lambda: ["followups", *data.draw(opts({"--until": WHEN}, max_size=1))],
        "report": lambda: ["report", *data.draw(opts({"--since": WHEN, "--until": WHEN}))],
        "history": lambda: ["history", data.draw(ref(seeded["contact"]))],
        "purge": lambda: ["purge", "--older-than", data.draw(TEXT | WHEN), "--dry-run"],
        "concern list": lambda: ["concern", "list", *data.draw(opts({
            "--status": CONCERN_OPTS["--status"], "--category": CATEGORY, "--hood": TEXT}))],
    }  # fmt: skip
    kind = data.draw(st.sampled_from(sorted(kinds)), "command")
    run(kinds[kind]() + data.draw(JSON))


SAFE_COMMANDS = [
    "add", "edit", "list", "show", "search", "followups", "concern", "referral", "refer", "org",
    "history", "verify", "purge", "report", "delete", "init",
]  # fmt: skip


@pytest.mark.slow
@settings(FUZZ, max_examples=scaled(30))
@given(words=st.lists(TEXT, max_size=6), command=st.sampled_from(SAFE_COMMANDS))
def test_fuzz_junk_arguments(cli, db_path, seeded, words, command):
    """Any words after a command (never one that opens the TUI, syncs or re-keys the log)."""
    Runner(cli, db_path, "junk arguments")([command, *words])


CONTACT_COLUMNS = (
    "id", "occurred_at", "officer", "kind", "person_name", "organization_id", "neighborhood",
    "beat", "location", "summary", "notes", "tags", "follow_up_on", "created_at", "updated_at",
)  # fmt: skip
ID = st.one_of(
    st.integers(0, (1 << 128) - 1).map(lambda n: f"{n:032x}"),
    st.sampled_from(["0190aaaaaaaa7aaa8aaaaaaaaaaaaaaa", "", "not-an-id", "0190AAAA"]),
    TEXT,
)
STAMP = st.one_of(
    st.sampled_from(["2026-11-20T08:00:00.000-06:00", "2026-11-20T14:00:00Z", "2026-11-20",
                     "", "yesterday", "2026-02-30T00:00:00Z"]),
    st.datetimes().map(lambda d: d.isoformat()),
    TEXT,
)  # fmt: skip
CELL = {
    "id": ID, "occurred_at": STAMP, "officer": st.one_of(st.just("Ofc Fuzz"), TEXT),
    "kind": KIND, "organization_id": st.one_of(st.just(""), ID), "tags": TEXT,
    "follow_up_on": st.one_of(st.just(""), WHEN), "created_at": STAMP, "updated_at": STAMP,
}  # fmt: skip
ROW = st.fixed_dictionaries({c: CELL.get(c, TEXT) for c in CONTACT_COLUMNS})


@pytest.mark.slow
@settings(FUZZ, max_examples=scaled(40))
@given(
    rows=st.lists(ROW, max_size=5),
    extra=st.sampled_from([[], ["--dry-run"], ["--json"]]),
    header=st.sampled_from(["exact", "shuffled", "missing"]),
)
def test_fuzz_import_export_format(cli, db_path, seeded, tmp_path, rows, extra, header):
    """Rows in the format of ``fieldlog export contacts`` (ids, times, officers kept)."""
    cols = list(CONTACT_COLUMNS)
    if header == "shuffled":
        cols.reverse()
    elif header == "missing":
        cols.remove("officer")
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    path = tmp_path / "contacts.csv"
    path.write_bytes(buf.getvalue().encode("utf-8", "surrogatepass"))
    Runner(cli, db_path, "CSV import (export format)")(["import", str(path), *extra])


@pytest.mark.slow
@settings(FUZZ, max_examples=scaled(30))
@given(
    body=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.lists(st.lists(TEXT, max_size=9), max_size=4).map(
            lambda rows: (
                "date,name,neighborhood,summary,concern category,concern text,"
                "referral agency,referral reason\n" + "\n".join(",".join(r) for r in rows)
            ).encode("utf-8", "surrogatepass")
        ),
    ),
    prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"PK\x03\x04"]),
)
def test_fuzz_import_any_bytes(cli, db_path, seeded, tmp_path, body, prefix):
    """Any bytes as a CSV (encodings, a BOM, a broken zip header, ragged rows)."""
    path = tmp_path / "any.csv"
    path.write_bytes(prefix + body)
    Runner(cli, db_path, "CSV import (any bytes)")(["import", str(path)])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("cells", "code"),
    [
        ({"kind": ""}, 0),  # an empty cell takes the default (was AttributeError)
        ({"occurred_at": "0001-01-01000000000"}, 1),  # was "year 0 is out of range"
        ({"occurred_at": "0999-01-01T00:00:00Z"}, 1),  # stored unpadded, unsortable
        ({"updated_at": "9999-12-31T23:59:59.999-06:00"}, 1),
    ],
)
def test_fuzz_found_import(cli, db_path, seeded, tmp_path, cells, code):
    row = {
        "id": "0190aaaaaaaa7aaa8aaaaaaaaaaaaaaa", "occurred_at": "2026-11-20T08:00:00-06:00",
        "officer": "Ofc Fuzz", "kind": "resident", "summary": "Found", "tags": "",
        "created_at": "2026-11-20T08:00:00.000-06:00",
        "updated_at": "2026-11-20T08:00:00.000-06:00", **cells,
    }  # fmt: skip
    path = tmp_path / "found.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CONTACT_COLUMNS, restval="")
        w.writeheader()
        w.writerow(row)
    assert Runner(cli, db_path, "found before")(["import", str(path)]) == code
    cli("list")


# Real processes: what an in-process runner cannot show (argv bytes that are not UTF-8, the
# interpreter's own error printing).
REAL_CASES = [
    ["add", os.fsdecode(b"caf\xe9 \xff\xfe")],
    ["add", "ok", "--concern", os.fsdecode(b"noise:caf\xe9")],
    ["search", os.fsdecode(b"caf\xe9")],
    ["org", "add", os.fsdecode(b"caf\xe9")],
    ["add", "x" * 100_000],
    ["add", "ok", "--at", os.fsdecode(b"\xff\xfe")],
    ["list", "--since", os.fsdecode(b"yesterday \xc3")],
    ["history", os.fsdecode(b"\xff\xff\xff\xff\xff\xff")],
    ["purge", "--older-than", "2y"],
    ["import", sys.executable],
    ["edit", "ffffff", "--summary", "x"],
    ["add", "--concern"],
]


# What the fuzz found once (dates out of datetime's range, or with years that stored text
# cannot sort), kept as fixed cases.
FOUND = [
    ["report", "--until", "0010-01-01"],
    ["list", "--since", "99999999d"],
    ["add", "x", "--at", "0999-01-01 10:00"],
    ["add", "x", "--follow-up", "9999999w"],
]


@pytest.mark.slow
@pytest.mark.parametrize("argv", FOUND, ids=[" ".join(a) for a in FOUND])
def test_fuzz_found(cli, db_path, seeded, argv):
    assert Runner(cli, db_path, "found before")(argv) == 1
    cli("list")  # and the log still reads


@pytest.mark.slow
@pytest.mark.parametrize("argv", REAL_CASES, ids=[str(i) for i in range(len(REAL_CASES))])
def test_fuzz_real_processes(cli, db_path, seeded, argv):
    before = snapshot(db_path)
    result = run_fieldlog(*argv)
    RUN_COUNTS["fuzz: real processes"] = RUN_COUNTS.get("fuzz: real processes", 0) + 1
    assert result.returncode in (0, 1, 2), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if result.returncode != 0:
        assert snapshot(db_path) == before
    with Store.open(db_path) as s:
        rep = audit.verify(s.conn)
    assert rep.ok, rep.problems

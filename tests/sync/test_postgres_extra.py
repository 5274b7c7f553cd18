"""psycopg is the optional ``postgres`` extra: without it a PostgreSQL remote is one line
naming the install command, and a sync to a file still works."""

from __future__ import annotations

import sys

import pytest

from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.remotes.postgres import INSTALL_POSTGRES
from fieldlog.db.remotes.types import SyncError

URL = "postgresql://officer:secret@127.0.0.1:9/department"


@pytest.fixture
def no_psycopg(monkeypatch):
    """As on a laptop installed without the extra: ``import psycopg`` fails."""
    for name in list(sys.modules):
        if name == "psycopg" or name.startswith("psycopg."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)


def test_a_postgres_remote_without_psycopg_names_the_extra(no_psycopg):
    with pytest.raises(SyncError) as err:
        open_remote(URL)
    message = str(err.value)
    assert INSTALL_POSTGRES == "pip install 'fieldlog[postgres]'"
    assert INSTALL_POSTGRES in message and "\n" not in message
    assert "secret" not in message


def test_sync_without_psycopg_is_one_line_and_a_file_remote_still_syncs(cli, tmp_path, no_psycopg):
    cli("add", "Met the shop owner")
    err = cli("sync", URL, code=1).stderr.strip()
    assert err.startswith("Error: ") and len(err.splitlines()) == 1, err
    assert "pip install 'fieldlog[postgres]'" in err and "Traceback" not in err
    cli("sync", str(tmp_path / "department.fieldlog"))
    assert "psycopg" not in sys.modules or sys.modules["psycopg"] is None

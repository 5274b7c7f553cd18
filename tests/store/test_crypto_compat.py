"""Encrypted logs outlive a change of SQLCipher binding.

``tests/fixtures/encrypted_sqlcipher4.sqlite`` is a fieldlog log (schema 6, the rows of
``schema_v6.db``) encrypted by sqlcipher3-binary 0.6.0 (SQLCipher 4.12.0, its default settings),
the binding fieldlog shipped before issue 11, with the passphrase below. Officers have logs like
it: whatever binding ``pyproject.toml`` names must open it, and must write new files with the
same settings, so an old and a new laptop read each other's logs and backups. Never rewrite the
fixture; copy it.

It was made like this (any SQLCipher 4 binding gives such a file)::

    from sqlcipher3 import dbapi2
    src = dbapi2.connect("tests/fixtures/schema_v6.db", isolation_level=None)
    src.execute("ATTACH DATABASE 'encrypted_sqlcipher4.sqlite' AS fx KEY 'fixture passphrase'")
    src.execute("SELECT sqlcipher_export('fx')")
    src.execute("PRAGMA fx.user_version = 6")
    src.execute("PRAGMA fx.application_id = 1179406151")
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldlog.db.connect import CIPHER_COMPATIBILITY, is_encrypted, open_cipher
from fieldlog.db.crypto import decrypt_log, encrypt_log
from fieldlog.db.store import Store
from tests.lib.crypto import digest
from tests.lib.run import run_fieldlog

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "encrypted_sqlcipher4.sqlite"
FIXTURE_PASS = "fixture passphrase"
# The file as made, byte for byte: never regenerated.
FIXTURE_SHA256 = "6eb5fd5762b73e9ddd42bd93614f12ecaf92b4d8886a8a2dedfc20e86cedaccf"
SUMMARIES = {
    "Lantern festival planning",
    "Walked the block with the youth league",
}

# SQLCipher 4's defaults, as ``PRAGMA cipher_settings`` lists them.
SQLCIPHER4 = [
    "PRAGMA kdf_iter = 256000;",
    "PRAGMA cipher_page_size = 4096;",
    "PRAGMA cipher_use_hmac = 1;",
    "PRAGMA cipher_plaintext_header_size = 0;",
    "PRAGMA cipher_hmac_algorithm = HMAC_SHA512;",
    "PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA512;",
]


def settings_of(path: Path, passphrase: str) -> list[str]:
    conn = open_cipher(path, passphrase)
    try:
        return [row[0] for row in conn.execute("PRAGMA cipher_settings")]
    finally:
        conn.close()


@pytest.fixture
def old_log(tmp_path) -> Path:
    copy = tmp_path / "old.db"
    shutil.copyfile(FIXTURE, copy)
    return copy


@pytest.fixture
def other_defaults() -> Iterator[None]:
    """A binding whose SQLCipher has other default settings (SQLCipher 3's here: 64,000
    iterations, 1024-byte pages, SHA-1), as a future SQLCipher 5 might: set for the whole
    process, as a binding's build would."""
    from sqlcipher3 import dbapi2

    conn = dbapi2.connect(":memory:")
    conn.execute("PRAGMA cipher_default_compatibility = 3")
    conn.close()
    try:
        yield
    finally:
        conn = dbapi2.connect(":memory:")
        conn.execute(f"PRAGMA cipher_default_compatibility = {CIPHER_COMPATIBILITY}")
        conn.close()


def test_the_fixture_is_an_encrypted_log_with_sqlcipher4_settings(old_log):
    assert digest(FIXTURE) == FIXTURE_SHA256
    assert is_encrypted(FIXTURE)
    assert settings_of(old_log, FIXTURE_PASS) == SQLCIPHER4


def test_a_log_encrypted_by_the_old_binding_opens_lists_and_verifies(old_log):
    with Store.open(old_log, passphrase=FIXTURE_PASS) as store:  # upgraded if older
        summaries = {r[0] for r in store.conn.execute("SELECT summary FROM contacts")}
        assert SUMMARIES <= summaries
        assert store.search.hits("lantern")
    env = {"FIELDLOG_PASSPHRASE": FIXTURE_PASS, "FIELDLOG_DB": str(old_log)}
    verify = run_fieldlog("verify", env=env)
    assert verify.returncode == 0, verify.stderr
    listed = run_fieldlog("list", env=env)
    assert listed.returncode == 0 and "Lantern" in listed.stdout, listed.stderr
    added = run_fieldlog("add", "Written by this binding", env=env)
    assert added.returncode == 0, added.stderr
    assert settings_of(old_log, FIXTURE_PASS) == SQLCIPHER4  # still readable by the old one


def test_a_new_encrypted_log_has_sqlcipher4_settings(tmp_path):
    path = tmp_path / "new.db"
    with Store.open(path, passphrase="pw", encrypt=True) as store:
        store.contacts.add({"summary": "First"})
    assert settings_of(path, "pw") == SQLCIPHER4


def test_other_defaults_in_the_binding_change_no_log(tmp_path, old_log, other_defaults):
    """fieldlog names SQLCipher 4's settings itself: with a binding whose defaults differ it
    still opens old logs, and new logs, encrypted copies and backups keep SQLCipher 4's."""
    with Store.open(old_log, passphrase=FIXTURE_PASS) as store:
        assert store.contacts.count() >= 2
        backup = tmp_path / "backup.db"
        from fieldlog.db.backup import backup_log

        backup_log(store.conn, old_log, backup)
    assert settings_of(backup, FIXTURE_PASS) == SQLCIPHER4
    new = tmp_path / "new.db"
    with Store.open(new, passphrase="pw", encrypt=True) as store:
        store.contacts.add({"summary": "First"})
    assert settings_of(new, "pw") == SQLCIPHER4
    plain = tmp_path / "plain.db"
    with Store.open(plain) as store:
        store.contacts.add({"summary": "Plain first"})
    encrypt_log(plain, "pw2")
    assert settings_of(plain, "pw2") == SQLCIPHER4
    decrypt_log(plain, passphrase="pw2")
    assert not is_encrypted(plain)

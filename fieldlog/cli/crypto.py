"""`fieldlog encrypt | decrypt | passphrase | backup | restore`.

The work is done by :mod:`fieldlog.db.crypto`; this module asks for passphrases and
confirmations and prints the outcome. A passphrase comes from ``$FIELDLOG_PASSPHRASE``, else a
hidden prompt when stdin is a terminal (:func:`fieldlog.cli.common.ask_passphrase`, which every
command opening the log shares); with neither, the command stops with one line and exit code 1.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from fieldlog.cli.common import JsonOpt, ask_passphrase, emit_json, log_path, store_of, sweep_beside
from fieldlog.cli.group import _typer
from fieldlog.errors import FieldlogError, StorageError

app = _typer()

NEW_PASSPHRASE_ENV = "FIELDLOG_NEW_PASSPHRASE"


def _contacts(n: int) -> str:
    return f"{n} contact" if n == 1 else f"{n} contacts"


YesOpt = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (for scripts).")
]


def _new_passphrase(path: Path, env: str) -> str:
    """A new passphrase: from ``$env``, else typed twice at a terminal."""
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise FieldlogError(
            f"Give the new passphrase in {env}, or run the command in a terminal to type it."
        )
    typed = ask_passphrase(path, True, False)
    if not typed:
        raise FieldlogError("A passphrase cannot be empty: choose one you will remember.")
    return typed


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise FieldlogError(f"{question} Add --yes to confirm (no terminal to ask on).")
    typer.confirm(question, abort=True, err=True)


def _warn_plain_copies(path: Path) -> None:
    from fieldlog.db.crypto import plain_copies

    copies = plain_copies(path)
    if copies:
        names = ", ".join(str(p) for p in copies)
        typer.echo(
            f"Warning: older copies beside the log are not encrypted: {names}. Delete them, or "
            "encrypt each with  fieldlog --db COPY encrypt",
            err=True,
        )


# ---------------------------------------------------------------------- encrypt / decrypt
@app.command()
def encrypt(ctx: typer.Context) -> None:
    """Encrypt the log in place with a passphrase ($FIELDLOG_PASSPHRASE, else asked twice)."""
    from fieldlog.db.connect import PASSPHRASE_ENV, log_kind
    from fieldlog.db.crypto import encrypt_log

    path = log_path(ctx)
    sweep_beside(path)
    kind = log_kind(path)
    if kind == "new":
        raise StorageError(
            f"There is no log at {path} yet: create an encrypted one with  "
            "fieldlog init --encrypt --officer NAME"
        )
    if kind == "encrypted":
        raise StorageError(
            f"The log {path} is already encrypted: change its passphrase with  fieldlog passphrase"
        )
    info = encrypt_log(path, _new_passphrase(path, PASSPHRASE_ENV))
    typer.echo(
        f"Encrypted the log {path} ({_contacts(info.contacts)}). Keep the passphrase safe: "
        "without it nobody, you included, can open the log again."
    )
    _warn_plain_copies(path)


@app.command()
def decrypt(ctx: typer.Context, yes: YesOpt = False) -> None:
    """Decrypt the log in place (anyone who can read the file can then read the log)."""
    from fieldlog.db.connect import log_kind
    from fieldlog.db.crypto import decrypt_log

    path = log_path(ctx)
    sweep_beside(path)
    if log_kind(path) == "encrypted":
        _confirm(f"Decrypt {path}? Anyone who can read the file will read the log.", yes)
    info = decrypt_log(path, ask=ask_passphrase)
    typer.echo(f"Decrypted the log {path} ({_contacts(info.contacts)}): it is now stored in clear.")


@app.command()
def passphrase(ctx: typer.Context) -> None:
    """Change the log's passphrase (new one from $FIELDLOG_NEW_PASSPHRASE, else asked twice)."""
    from fieldlog.db.connect import PASSPHRASE_ENV, connect, log_kind, passphrase_of
    from fieldlog.db.crypto import change_passphrase

    path = log_path(ctx)
    sweep_beside(path)
    if log_kind(path) != "encrypted":
        raise StorageError(
            f"The log {path} is not encrypted: encrypt it with  fieldlog encrypt  first."
        )
    conn = connect(path, ask=ask_passphrase)  # the current passphrase, checked first
    current = passphrase_of(conn)
    conn.close()
    new = _new_passphrase(path, NEW_PASSPHRASE_ENV)
    if new == current:
        raise FieldlogError("The new passphrase is the same as the current one: choose another.")
    change_passphrase(path, new, passphrase=current)
    typer.echo(f"Changed the passphrase of {path}. Backups made before keep the old passphrase.")
    if os.environ.get(PASSPHRASE_ENV):
        typer.echo(f"Update {PASSPHRASE_ENV}: it still holds the old passphrase.", err=True)


# ---------------------------------------------------------------------- backup / restore
@app.command()
def backup(
    ctx: typer.Context,
    dest: Annotated[
        Path,
        typer.Argument(
            metavar="PATH",
            help="The backup file to write, or a folder (then LOGNAME-TIME.db in it).",
        ),
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace PATH if it exists.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Copy the log to PATH while it is in use (encrypted too if the log is)."""
    from fieldlog.db.backup import backup_log
    from fieldlog.db.logfile import stamp

    store = store_of(ctx)
    dest = dest.expanduser()
    if dest.is_dir():
        dest = dest / f"{Path(store.path).stem}-{stamp()}.db"
    if dest.exists() and os.path.samefile(dest, store.path):
        raise FieldlogError(f"{dest} is the log itself: give the backup another path.")
    if dest.exists() and not force:
        raise FieldlogError(f"{dest} already exists: choose a new name, or add --force.")
    if not dest.parent.is_dir():
        raise FieldlogError(f"The folder {dest.parent} does not exist: create it first.")
    sweep_beside(dest)
    info = backup_log(store.conn, store.path, dest)
    if as_json:
        emit_json({"path": str(dest), "contacts": info.contacts, "encrypted": info.encrypted})
        return
    how = (
        "encrypted with the log's passphrase"
        if info.encrypted
        else "not encrypted: keep it somewhere safe"
    )
    typer.echo(f"Backed up {_contacts(info.contacts)} to {dest} ({how}).")


@app.command()
def restore(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(metavar="PATH", help="The backup file to restore.")],
    yes: YesOpt = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace the log even if it cannot be opened (damaged); its files are kept.",
        ),
    ] = False,
) -> None:
    """Replace the log with a backup, after checking the backup; the log is kept as a copy.

    Refused while another fieldlog has the log open, and for a backup that is damaged, not a
    fieldlog log, or from a newer fieldlog.
    """
    from fieldlog.db.backup import discard, finish_restore, open_current, stage_restore
    from fieldlog.db.connect import log_kind
    from fieldlog.db.crypto import reopen_info

    log = log_path(ctx)
    sweep_beside(log)
    try:
        current_was_encrypted = log_kind(log) == "encrypted"
    except StorageError:  # a damaged log (--force replaces it): it says nothing either way
        current_was_encrypted = False
    staged = stage_restore(source.expanduser(), log, ask=ask_passphrase)
    current = None
    try:
        now = "no log yet"
        if log.exists() and log.stat().st_size > 0:
            try:
                current = open_current(log, staged.info.passphrase, ask_passphrase)
                n = current.execute("SELECT count(*) FROM contacts WHERE deleted = 0").fetchone()
                now = _contacts(n[0])
            except FieldlogError as exc:
                if "locked" in str(exc) or not force:
                    raise FieldlogError(
                        f"The current log cannot be opened, so no copy of it can be made: {exc} "
                        "To replace it anyway (its files are kept beside it), add --force."
                    ) from None
                now = "cannot be opened"
            except Exception as exc:  # a damaged file's own error class (sqlite3/sqlcipher3)
                if not force:
                    raise FieldlogError(
                        f"The current log {log} cannot be read ({exc}): add --force to replace "
                        "it anyway (its files are kept beside it)."
                    ) from None
                if current is not None:
                    current.close()
                    current = None
                now = "cannot be read"
        b = staged.info
        kind = "encrypted" if b.encrypted else "not encrypted"
        if now != "no log yet":
            _confirm(
                f"Replace the log {log} ({now}) with the backup {source} "
                f"({_contacts(b.contacts)}, {kind})?",
                yes,
            )
        kept = finish_restore(staged, log, current)
        current = None  # finish_restore closed it
    finally:
        if current is not None:
            current.close()
        discard(staged)
    info = reopen_info(log, staged.info.passphrase, key_audit=True)
    typer.echo(f"Restored {log} from {source}: {_contacts(info.contacts)}.")
    if kept is not None:
        typer.echo(f"The log it replaced is kept as {kept}.")
    if info.encrypted:
        typer.echo("The restored log opens with the passphrase the backup was made with.")
    elif staged.info.passphrase is None and current_was_encrypted:
        typer.echo(
            "Warning: the backup was not encrypted, so the restored log is not either: "
            "encrypt it with  fieldlog encrypt",
            err=True,
        )

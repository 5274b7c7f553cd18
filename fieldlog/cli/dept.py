"""``fieldlog dept ...``: the department's enrolled laptops (devices, trust, revoke, key, pin;
the store's own ``setup`` and ``enroll`` are :mod:`fieldlog.cli.dept_setup` and
:mod:`fieldlog.cli.dept_enroll`, put in the same group by :func:`fieldlog.cli.build_app`).

The rules live in :mod:`fieldlog.db.devices`; this module parses, opens the remote the way
``fieldlog sync`` chooses it, calls and prints. The root adds ``app`` under ``dept``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from fieldlog.cli.common import JsonOpt, ask_remote_passphrase, emit_json, state_of, store_of
from fieldlog.cli.group import _typer
from fieldlog.errors import ValidationError
from fieldlog.text import printable

if TYPE_CHECKING:
    from fieldlog.db.devices import Trust
    from fieldlog.db.trustlog import Device

app = _typer("The department's enrolled laptops: devices, trust, revoke, key, pin.")

RemoteArg = Annotated[
    str | None,
    typer.Argument(
        help="A saved remote's name, a path to the store's file or a postgresql:// URL. "
        "Default: the settings file's remote, else the one saved remote.",
        metavar="[REMOTE]",
    ),
]
DeviceArg = Annotated[
    str,
    typer.Argument(
        metavar="DEVICE",
        help="The device's id or at least 6 characters of it, or of its key's fingerprint "
        "(fieldlog dept devices).",
    ),
]


def _target(ctx: typer.Context, remote: str | None) -> tuple[str, str]:
    """The one remote a ``dept`` command works on, chosen as ``fieldlog sync`` does."""
    from fieldlog import config
    from fieldlog.sync import choose

    state = state_of(ctx)
    saved = state.store().sync.remotes() if state.exists() else {}
    default = config.get("remote") if remote is None else None
    targets = choose(saved, remote, default=default, default_from=str(config.config_path()))
    if len(targets) > 1:
        names = ", ".join(label for label, _ in targets)
        raise ValidationError(
            "remote",
            f"Several remotes are saved ({names}): name one, e.g. fieldlog dept "
            f"{ctx.info_name} {targets[0][0]}",
        )
    return targets[0]


@contextmanager
def _trust(ctx: typer.Context, remote: str | None) -> Iterator[tuple[Trust, str]]:
    """The remote opened (never created) and its trust list read and checked; this laptop
    registers with it on the way, as a sync would."""
    from fieldlog.db.devices import Trust
    from fieldlog.db.remotes.factory import open_remote
    from fieldlog.db.remotes.types import safe_url

    label, url = _target(ctx, remote)
    store = store_of(ctx)
    ask_remote_passphrase([(label, url)])
    handle = open_remote(url, create=False)
    try:
        trust = Trust(store, handle, handle.store_id)
        for line in trust.prepare(full=True):  # a dept command reads and verifies it all
            typer.echo(printable(line), err=True)
        yield trust, safe_url(label)
    finally:
        handle.close()


def _line(d: Device) -> str:
    role = d.role or "-"
    who = ""
    if d.revoked:
        who = f"revoked by {d.revoked_by} {d.revoked_at or ''}".rstrip()
    elif d.trusted:
        who = f"trusted by {d.trusted_by}" + (" (founder)" if d.founder else "")
    where = f"  login {d.pushed_by}" if d.pushed_by else ""  # the database login it came from
    return printable(
        f"{d.device}  {d.fingerprint}  {d.status:<8} {role:<10} {d.officer}  "
        f"registered {d.registered_at}  {who}{where}".rstrip(),
        newlines=False,
    )


@app.command("devices")
def devices_cmd(ctx: typer.Context, remote: RemoteArg = None, as_json: JsonOpt = False) -> None:
    """The laptops registered with the store: id, key fingerprint, status, role, officer."""
    with _trust(ctx, remote) as (trust, label):
        rows = trust.devices()
        founder = trust.state.founder
        if as_json:
            emit_json(
                {
                    "remote": label,
                    "founder": founder.fingerprint if founder else None,
                    "this_device": trust.key.device,
                    "devices": [d.as_dict() for d in rows],
                }
            )
            return
        if founder is not None:
            typer.echo(
                printable(
                    f"{label}: founded by {founder.officer}, key {founder.fingerprint} "
                    "(check it with them once: fieldlog dept pin FINGERPRINT)"
                )
            )
        for d in rows:
            mark = "*" if d.device == trust.key.device and d.key == trust.key.public else " "
            typer.echo(f"{mark} {_line(d)}")
        if trust.state.ignored:
            typer.echo(
                f"{trust.state.ignored} entr{'ies' if trust.state.ignored != 1 else 'y'} of "
                "the trust list did not count (not signed by a supervisor, or altered)."
            )


@app.command("trust")
def trust_cmd(
    ctx: typer.Context,
    device: DeviceArg,
    remote: RemoteArg = None,
    role: Annotated[
        str, typer.Option("--role", metavar="ROLE", help="officer or supervisor.")
    ] = "officer",
) -> None:
    """Enroll a laptop: its changes apply everywhere from the next sync (supervisors only).

    Check the key fingerprint with its officer first (they read it from fieldlog dept key)."""
    role = role.strip().lower()
    if role not in ("officer", "supervisor"):
        raise ValidationError("role", f"'{role}' is not a role: give officer or supervisor.")
    with _trust(ctx, remote) as (trust, label):
        d = trust.trust(device, role)
        typer.echo(
            printable(
                f"Trusted {d.device} ({d.officer}, key {d.fingerprint}) as {role} on {label}: "
                "its changes apply at every laptop's next sync."
            )
        )


@app.command("revoke")
def revoke_cmd(ctx: typer.Context, device: DeviceArg, remote: RemoteArg = None) -> None:
    """Revoke a laptop (lost, stolen, retired): none of its later changes apply anywhere."""
    with _trust(ctx, remote) as (trust, label):
        d = trust.revoke(device)
        typer.echo(
            printable(
                f"Revoked {d.device} ({d.officer}, key {d.fingerprint}) on {label}: its "
                "changes from now on are quarantined on every laptop."
            )
        )


@app.command("key")
def key_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """This laptop's device id and key fingerprint, to read out to the supervisor."""
    from fieldlog.db import devkeys

    store = store_of(ctx)
    key = devkeys.load(store)
    assert key is not None
    if as_json:
        emit_json({"device": key.device, "fingerprint": key.fingerprint, "public_key": key.public})
        return
    typer.echo(f"device {key.device}  key {key.fingerprint}")


@app.command("pin")
def pin_cmd(
    ctx: typer.Context,
    fingerprint: Annotated[
        str,
        typer.Argument(
            metavar="FINGERPRINT",
            help="The founder's key fingerprint, as the founding supervisor reads it out.",
        ),
    ],
    remote: RemoteArg = None,
) -> None:
    """Check the store's founder against the fingerprint its supervisor gave you, and pin it
    (also accepts a trust list that a supervisor checked after a warning)."""
    with _trust(ctx, remote) as (trust, label):
        f = trust.pin(fingerprint)
        typer.echo(printable(f"Pinned {label}'s founder: {f.officer}, key {f.fingerprint}."))

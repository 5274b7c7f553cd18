"""``fieldlog dept enroll URL --officer NAME --role ROLE``: give a person of the department a
PostgreSQL login of their own, with what row-level security lets that role read and push.

The work is :func:`fieldlog.db.remotes.roles.enroll` (in the store owner's transaction,
:func:`fieldlog.db.remotes.dept.open_admin`); this module parses, calls and prints. The root
registers :func:`enroll_cmd` on the ``dept`` group. It needs no local log: it runs with the
owner's URL, often from an administrator's machine. The new password is printed once, inside
the URL the person's laptop syncs with; the owner's password is never printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fieldlog.cli.common import JsonOpt, emit_json
from fieldlog.errors import ValidationError
from fieldlog.text import printable

UrlArg = Annotated[
    str,
    typer.Argument(
        metavar="URL",
        help="The department store's postgresql:// URL with its owner's login (the one that "
        "ran fieldlog dept setup).",
    ),
]
OfficerOpt = Annotated[
    str,
    typer.Option(
        "--officer",
        metavar="NAME",
        help="The person's name, as their laptop's officer setting has it (the records they "
        "create carry it).",
    ),
]
RoleOpt = Annotated[
    str,
    typer.Option(
        "--role",
        metavar="officer|supervisor|analyst",
        help="officer (reads their unit, pushes as themselves), supervisor (also reviews) or "
        "analyst (reads the redacted views only).",
    ),
]
UnitOpt = Annotated[
    str | None,
    typer.Option(
        "--unit", metavar="UNIT", help="Their unit (an officer reads its rows); none: all."
    ),
]
AgencyOpt = Annotated[
    str | None,
    typer.Option(
        "--agency",
        metavar="NAME",
        help="Their agency (default: the store's default agency; a new one gets its partitions).",
    ),
]
LoginOpt = Annotated[
    str | None,
    typer.Option(
        "--login",
        metavar="NAME",
        help="The PostgreSQL login (default: fl_ and the name, e.g. fl_dana_ruiz).",
    ),
]
PasswordFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        metavar="FILE",
        help="Set the password to this file's first line (default: a new login gets a "
        "generated one; an enrolled login keeps its own).",
    ),
]


def read_password(path: Path) -> str:
    """The first line of ``path``, as the password (one line on any problem)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ValidationError(
            "password", f"Cannot read the password file {path}: {reason}."
        ) from None
    lines = text.splitlines()
    first = lines[0].strip("\r") if lines else ""
    if not first:
        raise ValidationError(
            "password", f"The password file {path} is empty: put the password on its first line."
        )
    return first


def enroll_cmd(
    url: UrlArg,
    officer: OfficerOpt,
    role: RoleOpt,
    unit: UnitOpt = None,
    agency: AgencyOpt = None,
    login: LoginOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Give a person a login of their own to the department store, or change theirs (role,
    unit, agency, password), and print the URL their laptop syncs with.

    Run it with the store owner's URL. A new login's password is generated and shown once,
    inside that URL: give it to the person, and it is not shown again."""
    from fieldlog.db.remotes import dept, roles
    from fieldlog.db.remotes.pgerrors import login_url
    from fieldlog.db.remotes.types import is_postgres, safe_url

    url = url.strip()
    if not is_postgres(url):
        raise ValidationError(
            "url",
            f"{safe_url(url)} is not a postgresql:// URL: a department store is a PostgreSQL "
            "database (postgresql://OWNER@HOST:5432/DATABASE; docs/department.md).",
        )
    password = read_password(password_file) if password_file is not None else None
    with dept.open_admin(url) as conn:
        done = roles.enroll(
            conn,
            officer=officer,
            role=role,
            unit=unit,
            agency=agency,
            login=login,
            password=password,
        )
    link = login_url(url, done.login, done.password)
    if as_json:
        emit_json({**done.as_dict(), "url": link, "password_set": done.password is not None})
        return
    where = f"unit {done.unit}" if done.unit else "every unit"
    verb = "Enrolled" if done.created else "Updated"
    typer.echo(
        printable(
            f"{verb} {done.officer} as {done.role} ({where}, agency {done.agency}): login "
            f"{done.login}."
        )
    )
    if done.password is None:
        typer.echo(printable(f"Its password is unchanged; its laptop keeps its URL: {link}"))
        return
    typer.echo("Give this URL to their laptop (it holds the password, shown only now):")
    typer.echo(f"  {link}")
    typer.echo(printable(f"On their laptop:  fieldlog remote add dept '{link}'"))

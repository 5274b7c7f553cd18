"""``fieldlog dept setup URL``: make a PostgreSQL database the department store, or upgrade it.

The work is :func:`fieldlog.db.remotes.dept.setup`; this module parses, calls and prints. The
root registers :func:`setup_cmd` on the ``dept`` group. It needs no local log: it runs on the
server with the database owner's URL, often from an administrator's machine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from fieldlog.cli.common import JsonOpt, emit_json
from fieldlog.errors import ValidationError
from fieldlog.text import printable

if TYPE_CHECKING:
    from fieldlog.db.remotes.dept import SetupReport

UrlArg = Annotated[
    str,
    typer.Argument(
        metavar="URL",
        help="The database's postgresql:// URL, with the login that owns it "
        "(postgresql://OWNER@HOST:5432/DATABASE).",
    ),
]
AgencyOpt = Annotated[
    str | None,
    typer.Option(
        "--agency",
        metavar="NAME",
        help="The first setup: the store's default agency (a moved store's changes go there; "
        "default 'default'). Later: one more agency sharing the database.",
    ),
]


def setup_cmd(url: UrlArg, agency: AgencyOpt = None, as_json: JsonOpt = False) -> None:
    """Make the database a department store (schema fieldlog: the change log laptops sync
    through, and current-state tables supervisors query), or bring one up to date.

    Run it once with the database owner's URL; again any time (it changes nothing then, but
    adds a new --agency). A plain PostgreSQL remote there is moved in, its history replayed:
    laptops keep syncing as before."""
    from fieldlog.db.remotes import dept
    from fieldlog.db.remotes.types import is_postgres, safe_url

    if not is_postgres(url.strip()):
        raise ValidationError(
            "url",
            f"{safe_url(url)} is not a postgresql:// URL: a department store is a PostgreSQL "
            "database (postgresql://OWNER@HOST:5432/DATABASE; docs/department.md).",
        )
    report = dept.setup(url.strip(), agency)
    if as_json:
        emit_json({"url": safe_url(url), **report.as_dict()})
        return
    for line in lines(report, safe_url(url)):
        typer.echo(printable(line))


def lines(r: SetupReport, where: str) -> list[str]:
    """What the setup did, in words."""
    names = ", ".join(r.agencies)
    if r.created:
        out = [
            f"Set up the department store at {where} (schema fieldlog, store {r.store_id}); "
            f"agencies: {names}.",
            "Next: give each officer a login with  fieldlog dept enroll URL --officer NAME "
            "--role officer  (docs/department.md).",
        ]
    elif r.upgraded and r.moved_from:
        n = "change" if r.moved == 1 else "changes"
        out = [
            f"Moved the store at {where} from schema {r.moved_from} into schema fieldlog: "
            f"{r.moved} {n}, {r.replayed} replayed into the current-state tables; agencies: "
            f"{names}.",
            "Laptops keep syncing as before; an older fieldlog refuses the store until it is "
            "upgraded (pip install -U fieldlog).",
        ]
    elif r.upgraded:
        out = [
            f"Upgraded the department store at {where}: {r.replayed} changes replayed into "
            f"the current-state tables; agencies: {names}."
        ]
    elif r.added:
        out = [
            f"Added agency {', '.join(r.added)} to the department store at {where}; "
            f"agencies: {names}."
        ]
    else:
        out = [f"The department store at {where} is already up to date; agencies: {names}."]
    return out

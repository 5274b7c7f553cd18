"""``fieldlog problem add | link | unlink | phase | log | plan | list | show | edit | delete``:
SARA problems, the record (docs/problems.md).

A problem is named by its id prefix or its title (:meth:`fieldlog.db.repos.problems.Problems.
resolve`); a record to link by its id prefix across contacts, concerns, referrals and
partners, or ``concern:ID`` to say which (``Problems.target``). The scanning and assessment
reports (``suggest``, ``assess``) are another module's: ``fieldlog.cli`` assembles the group
from both (:func:`fieldlog.cli.problem_app`), as group modules import none of each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from fieldlog.cli.common import (
    JsonOpt,
    _given,
    _print_new,
    emit_json,
    page_option,
    page_size,
    store_of,
)
from fieldlog.cli.group import _typer
from fieldlog.errors import FieldlogError, NotFoundError, ValidationError
from fieldlog.text import printable

if TYPE_CHECKING:
    from fieldlog.db.store import Store

HELP = "SARA problems: add, link, phase, log, plan, list, show (and suggest, assess)."
app = _typer()

SCREEN_PAGE = 100  # rows a list shows on screen ("Showing 100 of 700"); --json gives all
PageOpt = Annotated[int | None, page_option(SCREEN_PAGE)]
ProblemArg = Annotated[
    str, typer.Argument(metavar="PROBLEM", help="The problem: its id (prefix) or its title.")
]
# The options a problem's own fields take, declared once for add and edit.
HoodOpt = Annotated[str | None, typer.Option("--hood", help="The problem's neighborhood.")]
LocationOpt = Annotated[
    str | None, typer.Option("--location", metavar="TEXT", help="The place: a corner, a park.")
]
CategoryOpt = Annotated[
    str | None,
    typer.Option("--category", help="Concern category: noise, traffic, youth, housing, ..."),
]
CoordinatorOpt = Annotated[
    str | None, typer.Option("--coordinator", metavar="NAME", help="The officer coordinating it.")
]
DescriptionOpt = Annotated[
    str | None, typer.Option("--description", metavar="TEXT", help="What the problem is.")
]


def _short(store: Store, table: str, rid: str) -> str:
    return store.records.short_id(table, rid)


def _one_line(value: Any, width: int = 50) -> str:
    text = printable(" ".join(str(value or "").split()), newlines=False)
    return text if len(text) <= width else text[: width - 1].rstrip() + "\u2026"


def _partner_ids(store: Store, names: list[str]) -> list[str]:
    """The partners named (name any case, or id prefix): a name close to a partner's is one
    line with "did you mean" (:mod:`fieldlog.cli.suggest`'s closeness), before any write."""
    out = []
    for name in names:
        org = store.orgs.find(name)
        if org is not None:
            out.append(str(org["id"]))
            continue
        from fieldlog.cli.suggest import close_names

        near = close_names(name, [str(o["name"]) for o in store.orgs.names()])
        hint = f"did you mean {' or '.join(repr(n) for n in near)}? " if near else ""
        raise NotFoundError(
            f"No partner is named '{name}': {hint}Use a name from fieldlog org list, or add "
            "the partner first with fieldlog org add."
        )
    return out


def _noun(table: str) -> str:
    """A linked record's kind as the officer says it (``partner``, as ``partner:NAME``)."""
    from fieldlog import records

    return "partner" if table == "organizations" else records.NOUN[table]


def _record_word(store: Store, table: str, rid: str) -> str:
    return f"{_noun(table)} {_short(store, table, rid)}"


def _pairs_json(store: Store, pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [
        {"type": _noun(t), "table": t, "id": rid, "short_id": _short(store, t, rid)}
        for t, rid in pairs
    ]


# ---------------------------------------------------------------------- add
@app.command("add")
def problem_add(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="The problem in a few words.")],
    hood: HoodOpt = None,
    location: LocationOpt = None,
    category: CategoryOpt = None,
    coordinator: CoordinatorOpt = None,
    partner: Annotated[
        list[str] | None,
        typer.Option(
            "--partner", metavar="NAME", help="A partner working on it: name or id (repeatable)."
        ),
    ] = None,
    description: DescriptionOpt = None,
    link: Annotated[
        list[str] | None,
        typer.Option(
            "--link",
            metavar="ID",
            help="Link a contact, concern, referral or partner: id prefix, or concern:ID "
            "(repeatable).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Start a problem (in the scanning phase, coordinated by you unless --coordinator);
    prints its short id."""
    store = store_of(ctx)
    values = _given(
        neighborhood=hood, location=location, category=category, description=description
    )
    values["coordinator"] = coordinator if coordinator is not None else store.officer()
    partners = _partner_ids(store, partner or [])
    rid = store.problems.add(title, partners=partners, links=link or [], **values)
    _print_new(store, "problems", rid, as_json)


# ---------------------------------------------------------------------- links
TargetsArg = Annotated[
    list[str],
    typer.Argument(
        metavar="ID",
        help="Contacts, concerns, referrals or partners: id prefixes (a partner also by name); "
        "concern:ID, contact:ID, referral:ID, partner:NAME say which.",
    ),
]


@app.command("link")
def problem_link(
    ctx: typer.Context,
    problem: ProblemArg,
    targets: TargetsArg,
    as_json: JsonOpt = False,
) -> None:
    """Link contacts, concerns, referrals or partners to a problem (all or none: a wrong id
    links nothing)."""
    store = store_of(ctx)
    problems = store.problems
    pid = problems.resolve(problem)
    wanted = list(dict.fromkeys(problems.target(t) for t in targets))
    new = problems.link(pid, [f"{t}:{rid}" for t, rid in wanted]) if wanted else []
    already = [p for p in wanted if p not in new]
    short = _short(store, "problems", pid)
    if as_json:
        emit_json({"problem_id": pid, "short_id": short, "linked": _pairs_json(store, new),
                   "already_linked": _pairs_json(store, already)})  # fmt: skip
        return
    if new:
        typer.echo(
            f"Linked {', '.join(_record_word(store, t, r) for t, r in new)} to problem {short}."
        )
    if already:
        typer.echo(
            f"Already linked to problem {short}: "
            f"{', '.join(_record_word(store, t, r) for t, r in already)}."
        )


@app.command("unlink")
def problem_unlink(
    ctx: typer.Context,
    problem: ProblemArg,
    targets: TargetsArg,
    as_json: JsonOpt = False,
) -> None:
    """Remove links from a problem (the records stay; a record it does not link is refused,
    and nothing is unlinked)."""
    store = store_of(ctx)
    pid = store.problems.resolve(problem)
    gone = store.problems.unlink(pid, targets)
    short = _short(store, "problems", pid)
    if as_json:
        emit_json({"problem_id": pid, "short_id": short, "unlinked": _pairs_json(store, gone)})
        return
    typer.echo(
        f"Unlinked {', '.join(_record_word(store, t, r) for t, r in gone)} from problem {short}."
    )


# ---------------------------------------------------------------------- phase, log, plan
@app.command("phase")
def problem_phase(
    ctx: typer.Context,
    problem: ProblemArg,
    phase: Annotated[
        str,
        typer.Argument(metavar="PHASE", help="scanning, analysis, response, assessment or closed."),
    ],
    note: Annotated[
        str | None,
        typer.Option("--note", metavar="TEXT", help="Why, kept in the problem's log."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Move a problem to another phase: reaching response stamps when the response started,
    closed stamps when it closed (reopening clears that); the log keeps each change."""
    from fieldlog import dates

    p = store_of(ctx).problems.phase(problem, phase, note=note)
    if as_json:
        emit_json(p)
        return
    stamp = ""
    if p["phase"] == "closed" and p["closed_at"]:
        stamp = f" (closed {dates.show_local(p['closed_at'])})"
    elif p["response_started_at"] and p["phase"] in ("response", "assessment"):
        stamp = f" (response started {dates.show_local(p['response_started_at'])})"
    typer.echo(f"Problem {p['short_id']} is in {p['phase']}{stamp}.")


def _text_arg(text: str, what: str) -> str:
    """``TEXT`` as typed, or read from stdin for ``-`` (a pipe, or typed and ended with
    Ctrl-D), as ``fieldlog add -`` reads its summary."""
    if text != "-":
        return text
    import sys

    if sys.stdin.isatty():
        eof = "Ctrl-Z then Enter" if sys.platform == "win32" else "Ctrl-D"
        typer.echo(f"Type the {what}, then {eof} on a new line:", err=True)
    read = sys.stdin.read().strip()
    if not read:
        raise ValidationError(what, f"The {what} read from stdin ('-') is empty: pipe it in.")
    return read


@app.command("log")
def problem_log(
    ctx: typer.Context,
    problem: ProblemArg,
    text: Annotated[
        str, typer.Argument(help="What was done or learned ('-' reads it from stdin).")
    ],
    at: Annotated[
        str | None,
        typer.Option("--at", help="When (default now): 'yesterday 14:30', '2h ago'."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a dated entry to a problem's activity log."""
    from fieldlog import dates

    store = store_of(ctx)
    entry_text = _text_arg(text, "log entry")
    pid = store.problems.resolve(problem)
    eid = store.problems.log(pid, entry_text, at=at)
    at_stored = store.scalar("SELECT occurred_at FROM problem_entries WHERE id = ?", [eid])
    short = _short(store, "problems", pid)
    if as_json:
        entry = {"id": eid, "short_id": _short(store, "problem_entries", eid)}
        emit_json({**entry, "problem_id": pid, "problem_short_id": short,
                   "occurred_at": at_stored})  # fmt: skip
        return
    typer.echo(f"Logged on problem {short} at {dates.show_local(at_stored)}.")


@app.command("plan")
def problem_plan(
    ctx: typer.Context,
    problem: ProblemArg,
    text: Annotated[
        str | None,
        typer.Argument(
            help="The action plan ('-' reads it from stdin; left out, it opens in your "
            "editor with the current plan)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a problem's action plan (it replaces the plan; the log keeps each one)."""
    store = store_of(ctx)
    pid = store.problems.resolve(problem)
    if text is None:
        from fieldlog.cli.editor import edit_text, wanted

        if not wanted():
            raise FieldlogError(
                "Give the plan as TEXT ('-' reads it from stdin), or set EDITOR to write it "
                "in your editor."
            )
        current = store.scalar("SELECT plan FROM problems WHERE id = ?", [pid]) or ""
        edited = edit_text(
            store,
            current,
            name=f"plan-{_short(store, 'problems', pid)}",
            intro="The action plan: what will be done, by whom, by when.\n"
            "Lines starting with # are ignored.",
            apply=lambda plan: store.problems.plan(pid, plan),
        )
        if edited is None:
            typer.echo("No change.", err=True)
            if as_json:
                emit_json(store.problems.get(pid))
            return
        p = edited
    else:
        p = store.problems.plan(pid, _text_arg(text, "plan"))
    if as_json:
        emit_json(p)
    else:
        typer.echo(f"Plan of problem {p['short_id']} saved.")


# ---------------------------------------------------------------------- list, show
@app.command("list")
def problem_list(
    ctx: typer.Context,
    phase: Annotated[
        str | None,
        typer.Option(
            "--phase",
            metavar="PHASE",
            help="Only this phase: scanning, analysis, response, assessment, closed, or open.",
        ),
    ] = None,
    hood: Annotated[str | None, typer.Option("--hood", help="Neighborhood (any case).")] = None,
    coordinator: Annotated[
        str | None,
        typer.Option("--coordinator", metavar="NAME", help="Coordinating officer (any case)."),
    ] = None,
    limit: PageOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List problems by phase (scanning first, closed last), newest first within each, with
    how many records they link and their last activity."""
    problems = store_of(ctx).problems
    filters = {"phase": phase, "hood": hood, "coordinator": coordinator}
    page = page_size(limit, as_json, SCREEN_PAGE)
    rows = problems.list(limit=page, **filters)
    for r in rows:  # the last log entry, else the start
        r["last_activity_at"] = max(r["last_entry_at"] or "", r["started_at"] or "") or None
    if as_json:
        emit_json(rows)
        return
    from fieldlog import render

    total = problems.count(**filters) if page and len(rows) == page else None
    render.problem_list(
        rows,
        empty="No problems match."
        if any(filters.values())
        else 'No problems yet: start one with fieldlog problem add "TITLE" --hood NAME.',
        total=total,
    )


@app.command("show")
def problem_show(
    ctx: typer.Context,
    problem: ProblemArg,
    as_json: JsonOpt = False,
) -> None:
    """Show a problem: its fields, plan and partners, then the timeline of its linked
    contacts, concerns, referrals and log entries (local time)."""
    p = store_of(ctx).problems.get(problem)
    if as_json:
        emit_json(p)
        return
    from fieldlog import render

    render.problem(p)


# ---------------------------------------------------------------------- edit, delete
@app.command("edit")
def problem_edit(
    ctx: typer.Context,
    problem: ProblemArg,
    title: Annotated[str | None, typer.Option("--title", metavar="TEXT", help="New title.")] = None,
    description: DescriptionOpt = None,
    hood: HoodOpt = None,
    location: LocationOpt = None,
    category: CategoryOpt = None,
    coordinator: CoordinatorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a problem's own fields ('' clears one); its phase with fieldlog problem phase,
    its plan with fieldlog problem plan."""
    values = _given(
        title=title,
        description=description,
        neighborhood=hood,
        location=location,
        category=category,
        coordinator=coordinator,
    )
    values = {k: (None if k != "title" and not str(v).strip() else v) for k, v in values.items()}
    if not values:
        raise FieldlogError(
            "Nothing to change: give at least one option (see fieldlog problem edit -h)."
        )
    p = store_of(ctx).problems.update(problem, **values)
    if as_json:
        emit_json(p)
    else:
        typer.echo(f"Updated problem {p['short_id']}.")


@app.command("delete")
def problem_delete(
    ctx: typer.Context,
    problem: ProblemArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete a problem with its links and log (a tombstone that syncs; the linked records
    stay)."""
    from fieldlog.cli.suggest import can_ask

    store = store_of(ctx)
    p = store.problems.get(problem)
    if not yes:
        if as_json or not can_ask():
            raise ValidationError(
                "yes",
                "fieldlog problem delete deletes a problem: add --yes to run it from a script.",
            )
        linked = sum(len(p[k]) for k in ("contacts", "concerns", "referrals", "partners"))
        typer.confirm(
            f'Delete problem {p["short_id"]} "{_one_line(p["title"], 60)}" with its '
            f"{len(p['entries'])} log entries and {linked} links? (the linked records stay)",
            abort=True,
            err=True,
        )
    store.problems.delete(p["id"])
    if as_json:
        emit_json({"id": p["id"], "short_id": p["short_id"], "deleted": True})
    else:
        typer.echo(f"Deleted problem {p['short_id']}.")

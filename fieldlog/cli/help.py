"""Help that reads like the README: an example under every command, metavars such as ``WHEN``,
``ID`` and ``TEXT`` instead of Python types. Applied to each command as the root group hands it
out (:meth:`fieldlog.cli.common.FieldlogGroup.resolve_command`) and to a group as it parses its
own arguments, and only when the run shows help, so no command module repeats any of this and
``fieldlog add`` never imports this module.

Typer 0.29's Rich help shows every parameter's Python type (``<str>``, ``<list[str]>``,
``<bool>`` for a flag), an argument in the usage line as ``{summary}``, a number range as
``[x>=1]``, and keeps the line breaks of a docstring's later paragraphs (and, in the command
list, of the first one): a docstring wrapped at 100 columns broke mid-sentence at 80. Here each
command and parameter gets a subclass that draws them the README's way, the docstring's
paragraphs are re-flowed, options without help text take it from :data:`OPTION_HELP`, and the
command's line of :data:`EXAMPLES` is printed last, on one line (never re-wrapped: it is meant
to be copied into a shell).

The tables are the one place for help wording shared by many commands (``--status``,
``--hood``): an option's own ``help=`` always wins over them. ``tests/cli/test_help.py`` walks
every command: a new command without an example, or an option without help, fails there.
"""

from __future__ import annotations

import inspect
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from typer import _click
from typer.core import TyperArgument, TyperOption

from fieldlog import models

# ---------------------------------------------------------------------- examples
# One realistic line per command path ("" is bare `fieldlog`): what an officer would type.
EXAMPLES: dict[str, str] = {
    "": "fieldlog --db demo.db demo --if-empty",
    "init": 'fieldlog init --officer "Dana Ruiz" --badge 4471 --hood Eastside',
    "demo": "fieldlog --db demo.db demo --contacts 500 --seed 7",
    "add": 'fieldlog add "Met the owner about graffiti" --name "Ana Ruiz" --hood Eastside '
    '--concern disorder:"tags on the wall"',
    "list": "fieldlog list --since 7d --hood Eastside",
    "show": "fieldlog show 01a214",
    "edit": "fieldlog edit 01a214 --follow-up friday --add-tag graffiti",
    "delete": "fieldlog delete 01a214 --yes",
    "search": 'fieldlog search "youth league"',
    "followups": "fieldlog followups --until friday",
    "refer": 'fieldlog refer 01a214 "Parks Dept" --reason "court lighting" --service youth',
    "tui": "fieldlog tui",
    "verify": "fieldlog verify",
    "history": "fieldlog history 01a214 --type contact",
    "purge": "fieldlog purge --older-than 2y --dry-run",
    "encrypt": "fieldlog encrypt",
    "decrypt": "fieldlog decrypt --yes",
    "passphrase": "fieldlog passphrase",
    "backup": "fieldlog backup /media/usb/fieldlog-backup.db",
    "restore": "fieldlog restore /media/usb/fieldlog-backup.db",
    "export": "fieldlog export flat --since 30d --redact --out flat.csv",
    "import": "fieldlog import event-sheet.csv --dry-run",
    "report": "fieldlog report --since 30d --by hood --format md",
    "sync": "fieldlog sync dept",
    "done": 'fieldlog done 5b3d2f --outcome "family housed"',
    "undo": "fieldlog undo --dry-run",
    "concern": "fieldlog concern list --status unresolved",
    "concern add": 'fieldlog concern add 01a214 noise "music from the bar until 2am" '
    "--priority high",
    "concern list": "fieldlog concern list --status unresolved --hood Eastside",
    "concern update": 'fieldlog concern update 7c9e01 --resolution "owner moved the speakers"',
    "referral": "fieldlog referral list --status open",
    "referral list": "fieldlog referral list --status open --service housing",
    "referral update": "fieldlog referral update 5b3d2f --status completed "
    '--outcome "family housed"',
    "referral sheet": 'fieldlog referral sheet "Parks Dept" --out parks-referrals.xlsx',
    "org": "fieldlog org list --service food",
    "org add": 'fieldlog org add "Eastside Food Bank" --kind nonprofit --phone 555-0142 '
    "--services food,housing",
    "org list": "fieldlog org list --hood Eastside --service food",
    "org show": 'fieldlog org show "Eastside Food Bank"',
    "org edit": 'fieldlog org edit "Eastside Food Bank" --verified today',
    "org merge": 'fieldlog org merge "Parks Department" "Parks Dept" --yes',
    "partners": "fieldlog partners --cold 60d",
    "remote": "fieldlog remote list",
    "remote add": "fieldlog remote add dept /mnt/share/department.fieldlog",
    "remote list": "fieldlog remote list",
    "remote remove": "fieldlog remote remove dept",
    "conflicts": "fieldlog conflicts --all",
    "conflicts resolve": "fieldlog conflicts resolve 3 --keep theirs",
    "config": "fieldlog config set hood Eastside",
    "config get": "fieldlog config get follow_up_days",
    "config list": "fieldlog config list",
    "config set": "fieldlog config set follow_up_days 5",
    "config unset": "fieldlog config unset theme",
    "config path": "fieldlog config path",
    "dept": "fieldlog dept devices",
    "dept devices": "fieldlog dept devices dept --json",
    "dept trust": "fieldlog dept trust 1a2b3c4d5e6f dept --role officer",
    "dept revoke": "fieldlog dept revoke 1a2b3c4d5e6f dept",
    "dept key": "fieldlog dept key",
    "dept pin": "fieldlog dept pin 9f86d081884c7d65 dept",
    "dept setup": "fieldlog dept setup postgresql://owner@db.pd.local/fieldlog --agency Metro",
    "dept enroll": "fieldlog dept enroll postgresql://owner@db.pd.local/fieldlog "
    '--officer "Dana Cruz" --role officer --unit east',
    "review": "fieldlog review list --status submitted",
    "review list": "fieldlog review list --status returned --officer Cruz",
    "review approve": "fieldlog review approve 01a214 7c9e01",
    "review return": 'fieldlog review return 01a214 --comment "add the address"',
    "problem": "fieldlog problem list --phase open",
    "problem add": 'fieldlog problem add "Late-night noise at Elm Park" --hood Eastside '
    '--category noise --partner "Parks Dept"',
    "problem link": "fieldlog problem link 3f2a91 01a214 concern:7c9e01",
    "problem unlink": "fieldlog problem unlink 3f2a91 01a214",
    "problem phase": 'fieldlog problem phase 3f2a91 response --note "lighting plan agreed"',
    "problem log": 'fieldlog problem log "Elm Park" "walked the park with Parks Dept" '
    "--at yesterday",
    "problem plan": 'fieldlog problem plan 3f2a91 "Parks adds lights; patrols Fri-Sat 22-02"',
    "problem list": "fieldlog problem list --phase response --hood Eastside",
    "problem show": 'fieldlog problem show "Elm Park"',
    "problem edit": 'fieldlog problem edit 3f2a91 --location "Elm Park, north gate"',
    "problem delete": "fieldlog problem delete 3f2a91 --yes",
    "problem suggest": "fieldlog problem suggest --hood Eastside --since 90d",
    "problem assess": 'fieldlog problem assess "Elm Park" --format md',
}

# ---------------------------------------------------------------------- metavars
# By option name where the value means something; (command path, option) where a command
# means something else by it. Else by type (TYPE_METAVARS); a flag shows none.
OPTION_METAVARS: dict[str, str] = {
    "--at": "WHEN", "--since": "WHEN", "--until": "WHEN", "--follow-up": "WHEN",
    "--verified": "WHEN", "--db": "PATH", "--out": "FILE", "--limit": "N", "--contacts": "N",
    "--seed": "N", "--tag": "TAG", "--add-tag": "TAG", "--remove-tag": "TAG", "--hood": "NAME",
    "--officer": "NAME", "--name": "NAME", "--org": "NAME-or-ID", "--kind": "KIND",
    "--type": "TYPE", "--badge": "ID", "--beat": "BEAT", "--location": "TEXT", "--notes": "TEXT",
    "--summary": "TEXT", "--description": "TEXT", "--reason": "TEXT", "--outcome": "TEXT",
    "--resolution": "TEXT", "--address": "TEXT", "--contact-person": "PERSON",
    "--phone": "PHONE", "--email": "EMAIL", "--status": "STATUS", "--priority": "PRIORITY",
    "--category": "CATEGORY", "--service": "SERVICE", "--services": "SERVICES",
    "--keep": "mine|theirs|VALUE", "--older-than": "AGE",
}  # fmt: skip
COMMAND_OPTION_METAVARS: dict[tuple[str, str], str] = {
    ("add", "--name"): "PERSON",
    ("edit", "--name"): "PERSON",
    ("refer", "--concern"): "ID",
}
# Arguments show as their upper-cased name (SUMMARY, CONTACT) unless named here or at source.
ARGUMENT_METAVARS: dict[str, str] = {
    "contact_id": "ID", "concern_id": "ID", "referral_id": "ID", "record_id": "ID", "cid": "ID",
    "url": "PATH-or-URL", "org": "NAME-or-ID",
}  # fmt: skip
TYPE_METAVARS: dict[Any, str] = {
    str: "TEXT", int: "N", float: "NUMBER", Path: "PATH", datetime: "WHEN", bool: "yes|no",
}  # fmt: skip


# ---------------------------------------------------------------------- help text
def _one_of(words: tuple[str, ...]) -> str:
    return ", ".join(words)


# An option's own help= wins; these fill the options declared without one, (command path,
# option) first, then by option alone. Vocabularies come from fieldlog.models (never stale).
COMMAND_OPTION_HELP: dict[tuple[str, str], str] = {
    ("edit", "--summary"): "New summary: what happened, in a sentence.",
    ("edit", "--kind"): f"Contact kind: {_one_of(models.CONTACT_KINDS)}.",
    ("edit", "--beat"): "Beat.",
    ("edit", "--location"): "Place.",
    ("edit", "--notes"): "Longer notes (replace the notes).",
    ("refer", "--reason"): "Why the person is referred.",
    ("concern list", "--category"): f"Only this category: {_one_of(models.CONCERN_CATEGORIES)}.",
    ("concern list", "--hood"): "Only concerns raised in this neighborhood.",
    ("concern update", "--status"): f"New status: {_one_of(models.CONCERN_STATUSES)}.",
    ("concern update", "--priority"): f"New priority: {_one_of(models.PRIORITIES)}.",
    ("concern update", "--category"): f"New category: {_one_of(models.CONCERN_CATEGORIES)}.",
    ("concern update", "--description"): "New description (the concern in the resident's words).",
    ("referral list", "--service"): f"Only this service: {_one_of(models.REFERRAL_SERVICES)}.",
    ("referral update", "--status"): f"New status: {_one_of(models.REFERRAL_STATUSES)}.",
    ("referral update", "--outcome"): "What came of it.",
    ("referral update", "--reason"): "New reason for the referral.",
    ("referral update", "--service"): f"New service: {_one_of(models.REFERRAL_SERVICES)}.",
    ("org list", "--kind"): f"Only this kind: {_one_of(models.ORG_KINDS)}.",
    ("org list", "--hood"): "Only partners in this neighborhood.",
    ("org list", "--service"): "Only partners offering this service (e.g. food).",
    ("org edit", "--name"): "New name.",
    ("org edit", "--kind"): f"Partner kind: {_one_of(models.ORG_KINDS)}.",
    ("org edit", "--services"): "Replace the services, comma-separated: housing,food,...",
}
# Only wording true of the option in any command (a filter or a field alike).
OPTION_HELP: dict[str, str] = {
    "--hood": "Neighborhood.",
    "--priority": f"Priority: {_one_of(models.PRIORITIES)}.",
    "--category": f"Concern category: {_one_of(models.CONCERN_CATEGORIES)}.",
    "--service": f"Service: {_one_of(models.REFERRAL_SERVICES)}.",
    "--contact-person": "Who to ask for at the partner.",
    "--phone": "Phone number.",
    "--email": "E-mail address.",
    "--address": "Street address.",
    "--notes": "Longer notes.",
    "--outcome": "What came of it.",
}
ARGUMENT_HELP: dict[str, str] = {
    "org": "A partner's name or id.",
}


# ---------------------------------------------------------------------- polish
def polish(command: Any, path: str) -> Any:
    """``command`` (a Click command at ``path``, e.g. ``"concern update"``) made ready to show
    its help: its prose re-flowed, its parameters drawn with README metavars (as Click asks
    for them: the ``--help`` option is made late), its example printed after its help.

    Changes the object in place (its class becomes a subclass that draws it) and only once;
    a group's commands get their prose re-flowed too, for its command list."""
    if getattr(command, "_fieldlog_path", None) is not None:
        return command
    command.__class__ = _polished_class(type(command))
    command._fieldlog_path = path
    _polish_prose(command)
    for child in (getattr(command, "commands", None) or {}).values():
        _polish_prose(child)
    return command


def command_path(ctx: Any, name: str | None = None) -> str:
    """The path below the root of ``ctx``'s command (``"concern"``), and then ``name``: the
    root's own name is the program's (``fieldlog``, or a test runner's), so it is left out."""
    names = [name] if name else []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def reflow(text: str | None) -> str | None:
    """``text`` with each paragraph on one line, for Typer's Rich help to wrap at the
    terminal's width. A paragraph Click marks ``\\b`` (no re-wrap) and a list (lines that start
    with ``-``, ``*`` or ``1.``) keep their lines; what follows ``\\f`` is not shown anyway."""
    if not text:
        return text
    shown, cut, rest = inspect.cleandoc(text).partition("\f")
    paragraphs = []
    for para in re.split(r"\n[ \t]*\n", shown):
        lines = [line.strip() for line in para.strip("\n").splitlines()]
        if not any(lines):
            continue
        if para.startswith("\b") or any(_LIST_ITEM.match(line) for line in lines[1:]):
            paragraphs.append(para.strip("\n"))
        else:
            paragraphs.append(" ".join(" ".join(lines).split()))
    return "\n\n".join(paragraphs) + cut + rest


_LIST_ITEM = re.compile(r"([-*]|\d+[.)])\s")


def _polish_prose(command: Any) -> None:
    if getattr(command, "_fieldlog_prose", False):
        return
    command.help = _escape(reflow(command.help))
    command._fieldlog_prose = True


def _escape(text: str | None) -> str | None:
    """Help text is shown as Rich markup: a ``[word]`` in it would be taken for a style."""
    if not text:
        return text
    from rich.markup import escape

    return escape(text)


def _polish_param(param: Any, path: str) -> None:
    if getattr(param, "_fieldlog_polished", False):
        return
    param._fieldlog_polished = True
    if isinstance(param, TyperArgument):
        param.metavar = _argument_metavar(param)
        param.__class__ = _Argument
        if not param.help:
            param.help = ARGUMENT_HELP.get(param.name or "")
    elif isinstance(param, TyperOption):
        long = _long_opt(param)
        param.metavar = None if param.is_flag else _option_metavar(param, long, path)
        param.__class__ = _Option
        if not param.help:
            param.help = COMMAND_OPTION_HELP.get((path, long)) or OPTION_HELP.get(long)
    else:
        return
    param.help = _escape(reflow(param.help))


def _long_opt(param: Any) -> str:
    return next((o for o in param.opts if o.startswith("--")), param.opts[0] if param.opts else "")


def _readable(metavar: str | None) -> str | None:
    """A metavar given at source, unless it is a Python-ish one (``<str>``, ``{x}``)."""
    if metavar and not re.search(r"[<>{}]", metavar):
        return metavar
    return None


def _argument_metavar(param: Any) -> str:
    given = _readable(param.metavar)
    if given:
        return given.strip("[]") or given  # Typer adds the brackets of an optional one
    name = param.name or "VALUE"
    return ARGUMENT_METAVARS.get(name) or name.upper()


def _option_metavar(param: Any, long: str, path: str) -> str:
    given = _readable(param.metavar)
    if given:
        return given
    named = COMMAND_OPTION_METAVARS.get((path, long)) or OPTION_METAVARS.get(long)
    if named:
        return named
    return _type_metavar(param)


def _type_metavar(param: Any) -> str:
    """The metavar of a value by its type: a choice lists its words (``hood|officer``)."""
    desc = param.type_descriptor
    choices = desc.choices
    if choices:
        return "|".join(str(getattr(c, "value", c)) for c in choices)
    annotation = desc.annotation
    if desc.is_list or desc.is_tuple:
        args = getattr(annotation, "__args__", ()) or (str,)
        annotation = args[0]
    if desc.is_path:
        return "PATH"
    return TYPE_METAVARS.get(annotation, "TEXT")


class _Argument(TyperArgument):
    """An argument drawn as the README does: ``SUMMARY``, ``[REMOTE]``, ``FILES...`` in the
    usage line (Typer: ``{summary}``), its name only in the Arguments panel (no ``<str>``)."""

    def display_type_rich(self, ctx: _click.Context) -> str | None:
        return None

    def _rich_display_name(self) -> str:
        return self.display_name_raw + ("..." if self.nargs != 1 else "")

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")


class _Option(TyperOption):
    """An option drawn with its metavar (``WHEN``) and none for a flag (Typer: ``<bool>``);
    no ``[x>=1]`` range either (a value out of range is refused with the range)."""

    def display_type_rich(self, ctx: _click.Context) -> str | None:
        return None if self.is_flag else self.metavar

    def _get_number_range_help_str(self) -> str | None:
        return None


_CLASSES: dict[type, type] = {}


def _polished_class(cls: type) -> type:
    """A subclass of a command's class that polishes its parameters as Click asks for them and
    prints the example after the help (one per class, made on first use)."""
    polished = _CLASSES.get(cls)
    if polished is None:
        polished = type(f"Polished{cls.__name__}", (_Polished, cls), {})
        _CLASSES[cls] = polished
    return polished


class _Polished(_click.Command):
    """Mixed in before a command's own class by :func:`polish`."""

    _fieldlog_path: str

    def get_params(self, ctx: _click.Context) -> list[_click.Parameter]:
        params = super().get_params(ctx)
        for param in params:
            _polish_param(param, self._fieldlog_path)
        return params

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        super().format_help(ctx, formatter)
        example = EXAMPLES.get(self._fieldlog_path)
        if example:
            _print_example(self, example, formatter)


def _print_example(command: Any, example: str, formatter: _click.HelpFormatter) -> None:
    """``Example: fieldlog ...`` under the help, on one line whatever the width (a wrapped
    example would not paste into a shell). Rich help is printed, not formatted: so is this."""
    from typer.core import HAS_RICH

    if not HAS_RICH or getattr(command, "rich_markup_mode", None) is None:
        formatter.write(f"\nExample: {example}\n")
        return
    from rich.text import Text
    from typer import rich_utils

    console = rich_utils._get_rich_console()
    line = Text(" Example: ", style="bold") + rich_utils.highlighter(Text(example))
    console.print()
    console.print(line, soft_wrap=True)

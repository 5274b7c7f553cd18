"""`fieldlog export`: parses, checks the filters, and hands the writing to
:mod:`fieldlog.export`. The table choices come from the record registry. With ``--remote
NAME`` the same code runs on the department store's current state, read into a throwaway log
(:func:`fieldlog.remote_review.department_log`)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from fieldlog import records
from fieldlog.cli.common import JsonOpt, emit_json, progress
from fieldlog.cli.department import department_or_local
from fieldlog.cli.group import _typer
from fieldlog.errors import FieldlogError
from fieldlog.text import plural

app = _typer()

TABLE_NAMES = (*records.TABLES, "flat", "all", "hsds")


def _all_progress(bars: Any) -> Callable[[str, int], None] | None:
    """``export all``'s progress: one bar, the rows of every table so far (each table reports
    its own count); None when bars are not shown."""
    tick = bars.task("Exporting")
    if tick is None:
        return None
    done: dict[str, int] = {}

    def step(table: str, n: int) -> None:
        done[table] = n
        tick(sum(done.values()))

    return step


def _to_stdout(write: Callable[[], int]) -> int:
    """Run ``write`` (the CSV to stdout) and flush: a full disk behind a redirection (or
    ``> /dev/full``) is one line, not a traceback; a reader that stopped early (``| head``)
    ends the export quietly."""
    try:
        n = write()
        sys.stdout.flush()
    except BrokenPipeError:
        _drop_stdout()
        raise typer.Exit(1) from None
    except OSError as exc:
        _drop_stdout()
        raise FieldlogError(
            f"Cannot write the export to stdout: {exc.strerror or exc}. Free some space, or "
            "give --out FILE on another drive."
        ) from None
    return n


def _drop_stdout() -> None:
    """Point stdout at nothing, so Python's own flush at exit does not fail a second time."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    table: Annotated[
        str,
        typer.Argument(
            help="contacts, concerns, referrals, organizations, flat (one row per concern and "
            "per referral with its contact), all (a folder, or a .zip with --out X.zip), or "
            "hsds (the partners as an Open Referral HSDS 3.0 dataset: --out FOLDER).",
            metavar="[TABLE]",
        ),
    ] = "contacts",
    since: Annotated[
        str | None, typer.Option("--since", metavar="WHEN", help="Contacts from WHEN on.")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="WHEN", help="Contacts up to WHEN (a day includes it)."),
    ] = None,
    officer: Annotated[
        str | None, typer.Option("--officer", help="Logged by this officer.")
    ] = None,
    hood: Annotated[str | None, typer.Option("--hood", help="In this neighborhood.")] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="Concern category (e.g. noise).")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Concern, referral or partner status.")
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Contacts with this tag.")] = None,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE|DIR|-",
            help="Where to write (default/-: stdout). A name ending in .xlsx: an Excel workbook.",
        ),
    ] = None,
    form: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="csv|xlsx",
            help="csv, or xlsx: an Excel workbook that keeps ids and phones as text and times "
            "as dates (one sheet per table for all). Default: from the --out name, else csv.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace the --out file (or the files in the folder) if it exists."
        ),
    ] = False,
    excel: Annotated[
        bool,
        typer.Option(
            "--excel",
            help="CSV for Excel: UTF-8 byte-order mark and CRLF (to keep leading zeros and "
            "dates, write --out X.xlsx instead).",
        ),
    ] = False,
    raw: Annotated[
        bool,
        typer.Option("--raw", help="Keep cells that start with = + - @ as they are (no ')."),
    ] = False,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Names become pseudonyms; phones, e-mails, addresses, locations are left out "
            "and scrubbed from free text.",
        ),
    ] = False,
    remote: Annotated[
        str | None,
        typer.Option(
            "--remote",
            metavar="NAME",
            help="Export from the department store instead of this log: a saved remote's name "
            "or a postgresql:// URL (its current state, as your login may see it).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Export the log as CSV (RFC 4180, UTF-8) or an Excel workbook (--out X.xlsx): one table,
    a flat view, or all of them."""
    from fieldlog import export
    from fieldlog.export.files import check_out

    name = table.strip().lower()
    if name not in TABLE_NAMES:
        raise FieldlogError(f"Unknown table '{table}': use one of {', '.join(TABLE_NAMES)}.")
    to_stdout = out is None or out == "-"
    filters = {
        "since": since, "until": until, "officer": officer, "hood": hood,
        "category": category, "status": status, "tag": tag,
    }  # fmt: skip
    if name == "hsds":  # the partner directory as HSDS 3.0 (fieldlog.hsds)
        csv_only = {"--excel": excel, "--raw": raw, "--format": form is not None}
        _export_hsds(ctx, out, filters, force=force, redact=redact, remote=remote,
                    as_json=as_json, csv_only=csv_only)  # fmt: skip
        return
    if _workbook(form, out, excel=excel, raw=raw):  # --out X.xlsx: fieldlog.export.xlsx
        _export_xlsx(ctx, name, Path(out or "").expanduser(), filters,
                     force=force, redact=redact, remote=remote, as_json=as_json)  # fmt: skip
        return
    if as_json and to_stdout:
        raise FieldlogError(
            "--json prints a summary on stdout, which would mix with the CSV: "
            "give --out FILE with --json."
        )
    if name == "all" and to_stdout:
        raise FieldlogError(
            "'all' writes several files: give --out FOLDER, --out FILE.zip or --out FILE.xlsx."
        )
    if not to_stdout and name != "all":
        target = Path(out).expanduser()  # type: ignore[arg-type]
        check_out(target, force=force)  # a device, FIFO, folder, link or existing file
    with department_or_local(ctx, remote, quiet=as_json) as store:
        store.exports.check(name, filters)  # bad dates or words fail before any file is made
        result: dict[str, Any] = {"table": name, "out": "-" if to_stdout else out}

        with progress(quiet=as_json, counts=True) as bars:
            if name == "all":
                dest = Path(out).expanduser()  # type: ignore[arg-type]
                counts = export.export_all(
                    store, dest, filters=filters, excel=excel, raw=raw, redact=redact,
                    progress=_all_progress(bars), force=force,
                )  # fmt: skip
                result["rows"] = counts
                result["out"] = str(dest)
            else:
                total = store.exports.count(name, filters) if bars.shown else None
                redactor = export.Redactor.for_store(store) if redact else None
                kw: dict[str, Any] = {
                    "filters": filters, "excel": excel, "raw": raw, "redactor": redactor,
                    "progress": bars.task(f"Exporting {name}", total),
                    # One process: a forked second one (processes=2) cut the wall time on
                    # two free cores but cost ~20% more CPU in all (docs/export.md, Speed).
                    "processes": 1,
                }  # fmt: skip
                if to_stdout:
                    n = _to_stdout(lambda: export.write_table(store, name, sys.stdout, **kw))
                else:
                    path = Path(out).expanduser()  # type: ignore[arg-type]
                    with export.atomic_text(path, force=force) as fh:
                        n = export.write_table(store, name, fh, **kw)
                    result["out"] = str(path)
                result["rows"] = n
    if as_json:
        emit_json(result)
    elif not to_stdout:
        rows = result["rows"]
        count = sum(rows.values()) if isinstance(rows, dict) else rows
        typer.echo(f"Exported {plural(count, 'row')} to {result['out']}.", err=True)


def _workbook(form: str | None, out: str | None, *, excel: bool, raw: bool) -> bool:
    """Whether this export is an .xlsx workbook (``--format xlsx``, or ``--out`` naming a
    .xlsx file); refuses the combinations that cannot mean what they say."""
    kind = (form or "").strip().lower()
    if kind not in ("", "csv", "xlsx"):
        raise FieldlogError(f"Unknown format '{form}': use csv or xlsx.")
    named = out is not None and out != "-" and Path(out).suffix.lower() == ".xlsx"
    if kind == "csv" and named:
        raise FieldlogError(
            f"--format csv with --out {out}: a CSV file should not be named .xlsx; "
            "drop --format for a workbook, or name the file .csv."
        )
    if kind != "xlsx" and not named:
        return False
    if out is None or out == "-":
        raise FieldlogError("--format xlsx writes a workbook file: give --out FILE.xlsx.")
    if not named:
        raise FieldlogError(
            f"--format xlsx writes a workbook: name the file .xlsx (--out {Path(out).stem}.xlsx)."
        )
    if excel:
        raise FieldlogError(
            "--excel is for CSV files (a byte-order mark and CRLF): a .xlsx workbook needs "
            "neither; drop --excel."
        )
    if raw:
        raise FieldlogError(
            "--raw is for CSV files: a .xlsx workbook keeps every text as text (never a "
            "formula, no ' added); drop --raw."
        )
    return True


def _export_xlsx(
    ctx: typer.Context,
    name: str,
    path: Path,
    filters: dict[str, str | None],
    *,
    force: bool,
    redact: bool,
    remote: str | None,
    as_json: bool,
) -> None:
    """``fieldlog export TABLE --out FILE.xlsx``: one workbook, a sheet per table
    (:mod:`fieldlog.export.xlsx_tables`); the filters, redaction and rows are the CSV export's."""
    from fieldlog import export
    from fieldlog.export import xlsx_tables
    from fieldlog.export.files import check_out

    check_out(path, force=force)  # a device, FIFO, folder, link or existing file
    with department_or_local(ctx, remote, quiet=as_json) as store:
        store.exports.check(name, filters)  # bad dates or words fail before any file is made
        result: dict[str, Any] = {"table": name, "out": str(path)}
        with progress(quiet=as_json, counts=True) as bars:
            if name == "all":
                result["rows"] = xlsx_tables.export_all_xlsx(
                    store, path, filters=filters, redact=redact,
                    progress=_all_progress(bars), force=force,
                )  # fmt: skip
            else:
                total = store.exports.count(name, filters) if bars.shown else None
                result["rows"] = xlsx_tables.write_table_xlsx(
                    store, name, path, filters=filters,
                    redactor=export.Redactor.for_store(store) if redact else None,
                    progress=bars.task(f"Exporting {name}", total), force=force,
                )  # fmt: skip
    if as_json:
        emit_json(result)
    else:
        rows = result["rows"]
        count = sum(rows.values()) if isinstance(rows, dict) else rows
        typer.echo(f"Exported {plural(count, 'row')} to {path}.", err=True)


# The export's filters that mean something for partners (the others are about contacts).
PARTNER_FILTERS = ("status",)


def _export_hsds(
    ctx: typer.Context,
    out: str | None,
    filters: Mapping[str, str | None],
    *,
    force: bool = False,
    redact: bool = False,
    remote: str | None = None,
    as_json: bool = False,
    csv_only: Mapping[str, bool] | None = None,
) -> None:
    """Write the HSDS dataset to ``out`` (a folder, or a .zip); ``csv_only``: options of the
    CSV tables given (``--excel``, ``--raw``, ``--format``), refused here."""
    from fieldlog.hsds.export import summary, write_dataset

    if out is None or out == "-":
        raise FieldlogError(
            "'hsds' writes a dataset of several files: give --out FOLDER (or --out FILE.zip)."
        )
    other = [f"--{k}" for k, v in filters.items() if v is not None and k not in PARTNER_FILTERS]
    other += [k for k, v in (csv_only or {}).items() if v]
    if other:
        raise FieldlogError(
            f"{', '.join(other)} {'does' if len(other) == 1 else 'do'} not apply to 'hsds' (the "
            "partner directory as HSDS 3.0): leave it out; --status picks partners by status."
        )
    dest = Path(out).expanduser()
    with department_or_local(ctx, remote, quiet=as_json) as store:
        done = write_dataset(store, dest, force=force, redact=redact, status=filters.get("status"))
    if as_json:
        emit_json(done.as_dict())
        return
    shown = 3  # a directory typed without cities would print a line per partner
    for line in done.left_out[:shown]:
        typer.echo(f"Left out: {line}.", err=True)
    if len(done.left_out) > shown:
        typer.echo(
            f"... and {len(done.left_out) - shown} more like it (--json lists all).", err=True
        )
    typer.echo(summary(done), err=True)

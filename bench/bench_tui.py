"""Benchmark: the TUI's speed contracts (issue 10), each against plain Textual in the same run.

1. **Launch** to a usable dashboard on a 100,000-contact log, against a minimal 4-widget Textual
   app (Header, Static, DataTable, Footer, no data), its DataTable mounted with the focus and
   laid out, and one repaint. Three moments of fieldlog's, each against that one:
   - *usable*: the dashboard mounted with the focus in its table (keys go there: the app's
     key queue waits only while a screen has no focus yet) and one repaint: its layout, the
     "counting…" placeholders and every key are there;
   - *figures*: the counts on screen (``DashboardScreen.loaded``, set in ``show_figures()``;
     the app starts reading them as soon as the log is open) and one repaint;
   - *painted* (issue 16): the follow-ups table filled from its own read
     (``followups_loaded``), laid out, and one repaint: the dashboard as the officer sees it.
   Measured twice: *in-process*, from building the app (``make_app``: opening the log
   included; the baseline's ``App()``) through ``App.run_test()`` (a task polls from before
   ``run_test``, see ``watch_launch``), target <= 1.5x (issue 10); and in a *new process* per
   run, imports included (``python FILE.py``; the child prints ``time.monotonic()`` at each
   moment, a clock every process shares, and the parent subtracts the time it started the
   child; and ``time.process_time()``, the child's CPU from its start, every thread), wall
   and CPU, target <= 1.2x (issue 16). The pairs alternate which side starts.
   ``--process-only`` runs just that.
2. **The form opens**: ``n`` sent on the dashboard (as the terminal driver sends it) until the
   contact form is the screen, mounted, with the focus in a field, and one repaint; against the
   same key pushing a ModalScreen with *the same widgets* on the 4-widget app: the baseline is
   built in the same run by walking the mounted form's widget tree (every widget's nearest
   Textual class, containers with their children, the same counts and nesting, Select option
   counts, labels' texts), with no data, no store, no CSS. Target <= 1.5x.
3. **A search's first results** on the 100,000-contact log: the word pasted into the contacts
   screen's search box (one ``Input.Changed``, as if typed at once), until a DataTable on the
   screen holds rows other than the list it showed before and has measured them (``laid_out``),
   and one repaint, **minus the search
   debounce** (the contacts module's ``SEARCH_DELAY``, 0.25 s: subtracted, not set to 0, see
   ``search_delay``). Against: the store calls the screen made for it
   (recorded in the same run: every call on ``store.contacts/search/concerns/referrals/orgs``
   whose arguments carry the word, replayed directly with the same arguments on a fresh
   ``Store``) plus filling a DataTable of the 4-widget app with the same rows (the cells as
   plain strings, the same columns) and one repaint. Target <= 2x.

"One repaint" is ``screen._on_timer_update()``, called right after the condition holds on both
sides (the call ``Pilot.pause`` ends with: layout if needed, then the compositor renders every
widget refreshed since the last frame). Conditions are polled every millisecond.

Each repeat is a pair of sessions, fieldlog then baseline, so drift in machine load hits both
alike; one untimed pair first warms imports, the page cache and Textual's caches. The medians
and the median of the per-pair ratios are printed; PASS/OVER compares the median pair ratio.

The log is built once per size with ``fieldlog.demo.fill`` and kept in a cache folder
(``$TMPDIR/fieldlog-bench/tui-N.db``, reused while its contact count matches; ``--fresh``
rebuilds it). ``--db`` uses a log you already have.

Run:  .venv/bin/python bench/bench_tui.py [--contacts N] [--repeat N] [--opens N] [--word W]
                                         [--db PATH] [--fresh] [--no-process] [--process-only]
                                         [--json]

A benchmark, not a test: it exits 0 whatever the ratios (tests/unit/test_bench_tui_smoke.py
runs it on a tiny log so it cannot rot).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SIZE = (100, 30)
TARGETS = {
    "launch_usable": 1.5,
    "launch_figures": 1.5,
    "launch_painted": 1.5,
    # issue 16: a new process to the dashboard with its table painted, <= 1.2x the 4-widget
    # app's launch, in wall time and in CPU time
    "process_usable": 1.2,
    "process_figures": 1.2,
    "process_painted": 1.2,
    "cpu_usable": 1.2,
    "cpu_painted": 1.2,
    "form": 1.5,
    "search": 2.0,
}
POLL = 0.001  # seconds between two looks at a condition
TIMEOUT = 60.0  # a condition not met by then is a broken bench, not a slow TUI
REPOS = ("contacts", "search", "concerns", "referrals", "orgs")

# The minimal 4-widget app of the contract. Source text, so that the new-process measure runs
# exactly the class the in-process measures use (``baseline_classes`` execs it).
BASELINE_APP = """\
from textual.app import App
from textual.widgets import DataTable, Footer, Header, Static


class Plain(App):
    \"\"\"Header, Static, DataTable, Footer; no data.\"\"\"

    def compose(self):
        yield Header()
        yield Static(id="stats")
        yield DataTable(id="table", cursor_type="row")
        yield Footer()
"""

# What both new-process scripts end with: ``launch(app, conditions)`` runs the app headless,
# polls each condition in turn from before ``run_test`` (as ``watch_launch`` does in process),
# repaints once it holds and prints ``time.monotonic()`` then, one value a condition.
CHILD_WATCH = """
import asyncio, sys, time


def laid_out(table):
    return not getattr(table, "_require_update_dimensions", False)


def launch(app, conditions):
    async def main():
        times = []

        async def watch():
            for cond in conditions:
                deadline = time.monotonic() + TIMEOUT
                while True:
                    try:
                        ok = app._running and app.screen.is_mounted and cond()
                    except Exception:
                        ok = False
                    if ok:
                        break
                    if time.monotonic() > deadline:
                        raise SystemExit("never ready")
                    await asyncio.sleep(POLL)
                with app._context():
                    app.screen._on_timer_update()
                times.append(f"{time.monotonic()!r},{time.process_time()!r}")

        task = asyncio.create_task(watch())
        async with app.run_test(size=SIZE):
            await task
        print(*times)

    asyncio.run(main())
"""

BASELINE_SCRIPT = (
    BASELINE_APP
    + CHILD_WATCH
    + """
app = Plain()
table = lambda: app.query_one("#table")
launch(app, [lambda: app.screen.focused is table() and laid_out(table())])
"""
)

FIELDLOG_SCRIPT = (
    CHILD_WATCH
    + """
from fieldlog.tui.app import make_app
from fieldlog.tui.screens.dashboard import DashboardScreen

app = make_app(sys.argv[1])
launch(
    app,
    [
        lambda: isinstance(app.screen, DashboardScreen) and app.screen.focused,
        lambda: getattr(app.screen, "loaded", False),
        lambda: app.screen.followups_loaded and laid_out(app.screen.query_one("#followups")),
    ],
)
"""
)


# ---------------------------------------------------------------------------- helpers
async def until(cond: Callable[[], object], what: str, timeout: float | None = None) -> float:
    """Wait for ``cond()`` (polled every POLL seconds); the perf_counter time it held."""
    timeout = TIMEOUT if timeout is None else timeout
    deadline = time.perf_counter() + timeout
    while True:
        if cond():
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"bench_tui: waited {timeout:.0f} s for {what}")
        await asyncio.sleep(POLL)


def repaint(app: Any) -> float:
    """One repaint of the screen shown, now (what ``Pilot.pause`` ends with); returns the time."""
    app.screen._on_timer_update()
    return time.perf_counter()


def watch_launch(
    app: Any, stages: Sequence[tuple[Callable[[], object], str]]
) -> asyncio.Task[list[float]]:
    """A task, started before ``run_test``, that polls each stage's condition in turn from the
    app's first moment and repaints once it holds; its result is those times, one a stage.
    (Polling inside ``run_test`` would start only once ``run_test`` has waited for every
    widget to drain its messages, which on a busy screen is 0.1-0.2 s after the figures are
    up.)"""

    async def poll() -> list[float]:
        times = []
        for cond, what in stages:
            deadline = time.perf_counter() + TIMEOUT
            while True:
                try:
                    ok = app._running and app.screen.is_mounted and cond()
                except Exception:  # noqa: BLE001 - no screen or widget yet
                    ok = False
                if ok:
                    with app._context():  # the active app, as inside run_test
                        times.append(repaint(app))
                    break
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"bench_tui: waited {TIMEOUT:.0f} s for {what}")
                await asyncio.sleep(POLL)
        return times

    return asyncio.create_task(poll())


def dashboard_usable(app: Any) -> bool:
    """The dashboard is mounted with the focus in a widget: typed keys go there (the app's
    key queue holds keys only while the screen shown has no focus yet, see ``_settling``)."""
    from fieldlog.tui.screens.dashboard import DashboardScreen

    screen = app.screen
    return isinstance(screen, DashboardScreen) and screen.is_mounted and bool(screen.focused)


def followups_painted(app: Any) -> bool:
    """The dashboard's second read (the follow-ups) is in its table and the table has measured
    its rows: the repaint that follows shows them (the launch's last moment)."""
    screen = app.screen
    return bool(getattr(screen, "followups_loaded", False)) and laid_out(
        screen.query_one("#followups")
    )


def laid_out(table: Any) -> bool:
    """The DataTable has measured its rows (it does so on its next idle after rows change):
    a repaint now shows them. Private, but the same test on both sides."""
    return not getattr(table, "_require_update_dimensions", False)


def send_key(app: Any, key: str, char: str | None) -> None:
    """A key as the terminal driver delivers it (what ``Pilot.press`` sends, without its waits
    for idle, which sleep in 20 ms steps)."""
    from textual import events

    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)


async def quiet(app: Any) -> None:
    """Let workers finish and the screen settle between two measures (untimed)."""
    await app.workers.wait_for_complete()
    await asyncio.sleep(0.05)
    await app.workers.wait_for_complete()


def baseline_classes() -> dict[str, Any]:
    """``Plain`` (the 4-widget app) and its variant with ``n`` pushing a mirrored form."""
    from textual.binding import Binding
    from textual.screen import ModalScreen

    ns: dict[str, Any] = {}
    exec(BASELINE_APP, ns)  # noqa: S102 - our own constant: the one baseline app
    plain = ns["Plain"]

    class Mirror(ModalScreen[None]):
        """The form's widgets (``form_spec``), built from Textual classes, no data."""

        AUTO_FOCUS = "*"

        def __init__(self, spec: list[Node]) -> None:
            super().__init__()
            self.spec = spec

        def compose(self) -> Any:
            yield from (build(node) for node in self.spec)

    class PlainWithForm(plain):  # type: ignore[misc, valid-type]
        BINDINGS = [Binding("n", "open_form", "New")]

        def __init__(self, spec: list[Node]) -> None:
            super().__init__()
            self.spec = spec

        def action_open_form(self) -> None:
            self.push_screen(Mirror(self.spec))

    return {"Plain": plain, "PlainWithForm": PlainWithForm, "Mirror": Mirror}


# ---------------------------------------------------------------------------- form mirror
@dataclass
class Node:
    """One widget of the form: its nearest Textual class, what to build it with, children."""

    cls: type
    kwargs: dict[str, Any] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)


def textual_class(widget: Any) -> type:
    """The first class in the widget's MRO that is Textual's own (a fieldlog widget maps to
    the Textual widget it extends)."""
    for cls in type(widget).__mro__:
        if cls.__module__.startswith("textual."):
            return cls
    raise TypeError(f"not a Textual widget: {widget!r}")


def is_container(cls: type) -> bool:
    from textual.widget import Widget

    return cls is Widget or cls.__module__ == "textual.containers"


def leaf_kwargs(widget: Any, cls: type) -> dict[str, Any]:
    """What the mirror widget is built with: the static texts and option counts, no data."""
    from textual.widgets import Button, Input, Select, Static, TextArea

    kw: dict[str, Any] = {}
    if hasattr(widget, "compact") and cls in (Input, Select, Button, TextArea):
        kw["compact"] = bool(widget.compact)
    if cls is Input:
        kw["placeholder"] = str(widget.placeholder)
    elif cls is Select:
        opts = [(str(p), i) for i, (p, v) in enumerate(widget._options) if v is not Select.NULL]
        kw["options"] = opts or [("-", 0)]
        kw["allow_blank"] = bool(widget._allow_blank)
    elif cls is Button:
        kw["label"] = str(widget.label)
    elif issubclass(cls, Static):
        content = getattr(widget, "content", "")
        kw["content"] = content if isinstance(content, str) else str(content)
        kw["markup"] = False
    return kw


def form_spec(parent: Any) -> list[Node]:
    """The widgets ``parent`` (a mounted screen) holds, recursively through containers; a
    leaf widget's own inner widgets (a Select's overlay, a Header's clock) are its own."""
    out = []
    for child in parent.children:
        cls = textual_class(child)
        if is_container(cls):
            out.append(Node(cls, {}, form_spec(child)))
        else:
            out.append(Node(cls, leaf_kwargs(child, cls)))
    return out


def build(node: Node) -> Any:
    """The mirror widget for ``node`` (with its children for a container)."""
    if node.children:
        return node.cls(*(build(c) for c in node.children))
    try:
        return node.cls(**node.kwargs)
    except TypeError:  # a Textual widget that needs arguments we do not copy
        from textual.widgets import Static

        return Static("")


def spec_counts(spec: list[Node]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for node in spec:
        counts[node.cls.__name__] += 1
        counts.update(spec_counts(node.children))
    return counts


# ---------------------------------------------------------------------------- search recorder
@dataclass
class Call:
    repo: str
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    seconds: float
    rows: int | None

    def __str__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"store.{self.repo}.{self.method}({', '.join(parts)})"


class Recorder:
    """Records the store calls a screen makes for one search: every public method of the
    search-related repositories is wrapped on the store's instances; a call is kept when one
    of its string arguments carries the word (the status line, polling and the rest do not)."""

    def __init__(self, store: Any, word: str) -> None:
        self.word = word.lower()
        self.calls: list[Call] = []
        for repo_name in REPOS:
            repo = getattr(store, repo_name, None)
            if repo is None:
                continue
            for name in dir(type(repo)):
                method = getattr(repo, name, None)
                if name.startswith("_") or not callable(method):
                    continue
                setattr(repo, name, self._wrap(repo_name, name, method))

    def _carries_word(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        values = [*args, *kwargs.values()]
        return any(isinstance(v, str) and self.word in v.lower() for v in values)

    def _wrap(self, repo: str, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            out = method(*args, **kwargs)
            took = time.perf_counter() - start
            if self._carries_word(args, kwargs):
                rows = len(out) if isinstance(out, list | tuple) else None
                self.calls.append(Call(repo, name, args, dict(kwargs), took, rows))
            return out

        return recorded


def search_delay() -> float | None:
    """The contacts screen's search debounce in seconds (``SEARCH_DELAY``), None if not found.

    It is subtracted from the measure rather than set to 0: Textual's one-shot timer skips its
    only tick when its interval has already passed on its first look, so a 0 or near-0 delay
    can lose the search (and 0 divides by zero)."""
    from fieldlog.tui.screens import contacts

    for name in ("SEARCH_DELAY", "SEARCH_DEBOUNCE", "DEBOUNCE"):
        value = getattr(contacts, name, None)
        if isinstance(value, int | float):
            return float(value)
    return None


def table_rows(table: Any) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def table_columns(table: Any) -> list[tuple[str, int | None]]:
    return [(str(c.label), None if c.auto_width else c.width) for c in table.columns.values()]


# ---------------------------------------------------------------------------- sessions
@dataclass
class FieldlogRun:
    usable: float
    figures: float
    followups: float
    forms: list[float]
    search: float
    spec: list[Node]
    calls: list[Call]
    rows: list[list[str]]
    columns: list[tuple[str, int | None]]
    debounce: str


@dataclass
class BaselineRun:
    launch: float
    forms: list[float]
    query: float
    fill: float

    @property
    def search(self) -> float:
        return self.query + self.fill


async def fieldlog_session(db: str, word: str, opens: int) -> FieldlogRun:
    """Launch fieldlog on ``db``, open the form ``opens`` times, then search ``word`` once."""
    from textual.widgets import DataTable, Input, TextArea

    from fieldlog.tui.app import make_app
    from fieldlog.tui.screens.contacts import ContactsScreen
    from fieldlog.tui.screens.form import ContactFormScreen

    t0 = time.perf_counter()
    app = make_app(db)
    ready = watch_launch(
        app,
        [
            (lambda: dashboard_usable(app), "the dashboard mounted with its focus"),
            (lambda: getattr(app.screen, "loaded", False), "the dashboard's figures"),
            (lambda: followups_painted(app), "the follow-ups table laid out"),
        ],
    )
    async with app.run_test(size=SIZE):
        usable, figures, followups = (t - t0 for t in await ready)
        dashboard = app.screen
        await quiet(app)

        forms: list[float] = []
        spec: list[Node] = []
        for _ in range(opens):
            t0 = time.perf_counter()
            send_key(app, "n", "n")
            await until(
                lambda: (
                    isinstance(app.screen, ContactFormScreen)
                    and app.screen.is_mounted
                    and app.screen.focused is not None
                ),
                "the contact form with a focused field",
            )
            forms.append(repaint(app) - t0)
            spec = spec or form_spec(app.screen)
            await quiet(app)
            app.pop_screen()
            await until(lambda: app.screen is dashboard, "the dashboard back")
            await quiet(app)

        send_key(app, "slash", "/")
        await until(
            lambda: (
                isinstance(app.screen, ContactsScreen)
                and app.screen.is_mounted
                and isinstance(app.focused, Input | TextArea)
                and any(t.row_count for t in app.screen.query(DataTable))
            ),
            "the contact list with the cursor in its search box",
        )
        await quiet(app)
        screen = app.screen
        before = {id(t): set(t.rows) for t in screen.query(DataTable)}

        def results() -> Any:
            for t in screen.query(DataTable):
                if (
                    t.row_count
                    and not t.loading
                    and set(t.rows) != before.get(id(t))
                    and laid_out(t)
                ):
                    return t
            return None

        delay = search_delay()
        recorder = Recorder(app.store, word)
        from textual import events

        t0 = time.perf_counter()
        app.focused.post_message(events.Paste(word))  # type: ignore[union-attr]
        await until(results, f"search results for {word!r}")
        search = repaint(app) - t0 - (delay or 0.0)
        ncalls = len(recorder.calls)
        table = results()
        rows, columns = table_rows(table), table_columns(table)
        await quiet(app)
    debounce = (
        f"the debounce ({delay * 1000:.0f} ms, SEARCH_DELAY) subtracted"
        if delay is not None
        else "no debounce constant found: nothing subtracted"
    )
    return FieldlogRun(
        usable,
        figures,
        followups,
        forms,
        search,
        spec,
        recorder.calls[:ncalls],
        rows,
        columns,
        debounce,
    )


async def baseline_session(db: str, ours: FieldlogRun, opens: int) -> BaselineRun:
    """The same three measures on the 4-widget app (and a fresh Store for the raw query)."""
    from textual.widgets import DataTable

    from fieldlog.db.store import Store

    classes = baseline_classes()
    mirror = classes["Mirror"]
    t0 = time.perf_counter()
    app = classes["PlainWithForm"](ours.spec)
    ready = watch_launch(
        app,
        [
            (
                lambda: (
                    app.screen.focused is app.query_one(DataTable)
                    and laid_out(app.query_one(DataTable))
                ),
                "the 4-widget app",
            )
        ],
    )
    async with app.run_test(size=SIZE):
        launch = (await ready)[0] - t0
        home = app.screen
        await quiet(app)

        forms: list[float] = []
        for _ in range(opens):
            t0 = time.perf_counter()
            send_key(app, "n", "n")
            await until(
                lambda: (
                    isinstance(app.screen, mirror)
                    and app.screen.is_mounted
                    and app.screen.focused is not None
                ),
                "the mirrored form with a focused field",
            )
            forms.append(repaint(app) - t0)
            await quiet(app)
            app.pop_screen()
            await until(lambda: app.screen is home, "the baseline's first screen back")
            await quiet(app)

        table = app.query_one(DataTable)
        for label, width in ours.columns:
            table.add_column(label, width=width)
        repaint(app)
        with Store.open(db) as store:
            t0 = time.perf_counter()
            for c in ours.calls:
                getattr(getattr(store, c.repo), c.method)(*c.args, **c.kwargs)
            query = time.perf_counter() - t0
        await quiet(app)
        t0 = time.perf_counter()
        table.clear()
        table.add_rows(ours.rows)
        await until(lambda: laid_out(table), "the baseline table's rows laid out")
        fill = repaint(app) - t0
        await quiet(app)
    return BaselineRun(launch, forms, query, fill)


# ---------------------------------------------------------------------------- new process
def process_env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


Moment = tuple[float, float]  # (wall seconds from the child's start, its CPU seconds then)


def timed(cmd: list[str], env: dict[str, str]) -> list[Moment]:
    """Each moment ``cmd`` prints, as (seconds from starting it, CPU seconds it had used):
    the child prints ``time.monotonic()`` (the same clock in every process) and
    ``time.process_time()`` (its own CPU, every thread, from its start: the interpreter's
    start-up included)."""
    start = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, env=env, text=True)
    if done.returncode:
        raise RuntimeError(f"bench_tui: {cmd[1]} failed:\n{done.stderr[-2000:]}")
    moments = []
    for item in done.stdout.split():
        wall, cpu = item.split(",")
        moments.append((float(wall) - start, float(cpu)))
    return moments


def process_commands(work: Path, db: str) -> tuple[list[str], list[str]]:
    """The two launch scripts written to ``work``: (fieldlog, baseline) command lines."""
    consts = f"SIZE = {SIZE!r}\nPOLL = {POLL!r}\nTIMEOUT = {TIMEOUT!r}\n"
    (work / "fieldlog_launch.py").write_text(consts + FIELDLOG_SCRIPT)
    (work / "baseline_launch.py").write_text(consts + BASELINE_SCRIPT)
    return (
        [sys.executable, str(work / "fieldlog_launch.py"), db],
        [sys.executable, str(work / "baseline_launch.py")],
    )


def launch_processes(
    db: str, repeat: int, warmups: int = 2
) -> tuple[list[list[Moment]], list[Moment]]:
    """``repeat`` alternated pairs of fresh-process launches (after ``warmups`` of each; the
    pairs' order alternates too, fieldlog first then the baseline first): fieldlog's moments
    (usable, figures, table painted) and the baseline's one (its DataTable focused, painted)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = process_env(work)
        ours, base = process_commands(work, db)
        for _ in range(warmups):  # the page cache and the bytecode cache
            timed(ours, env)
            timed(base, env)
        mine, theirs = [], []
        for i in range(repeat):
            if i % 2:
                theirs.append(timed(base, env)[0])
                mine.append(timed(ours, env))
            else:
                mine.append(timed(ours, env))
                theirs.append(timed(base, env)[0])
    return mine, theirs


# ---------------------------------------------------------------------------- the log
def cached_log(contacts: int, folder: Path, *, fresh: bool = False) -> Path:
    """A demo log of ``contacts`` contacts, built once and kept in ``folder`` (rebuilt when its
    count does not match, or with ``fresh``). Built under a temporary name, then renamed, so
    an interrupted build is never reused."""
    from fieldlog import demo
    from fieldlog.db.store import Store

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"tui-{contacts}.db"
    if path.exists() and not fresh:
        try:
            with Store.open(path) as store:
                if store.contacts.count() == contacts:
                    return path
        except Exception as err:  # noqa: BLE001 - a broken cache is rebuilt
            print(f"rebuilding {path}: {err}", file=sys.stderr)
    for p in folder.glob(f"tui-{contacts}.db*"):
        p.unlink()
    part = folder / f"tui-{contacts}.part.db"
    for p in folder.glob(f"tui-{contacts}.part.db*"):
        p.unlink()
    print(f"making {contacts:,} demo contacts in {path}…", file=sys.stderr)
    start = time.perf_counter()
    with Store.open(part) as store:
        store.set_officer("Ofc. Bench", "0001", "Eastside")
        demo.fill(store, contacts)
    part.rename(path)
    print(f"  made in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return path


# ---------------------------------------------------------------------------- report
def figures(mine: Sequence[float], theirs: Sequence[float], target: float) -> dict[str, Any]:
    ratios = [a / b for a, b in zip(mine, theirs, strict=True)]
    m, t, r = statistics.median(mine), statistics.median(theirs), statistics.median(ratios)
    return {
        "fieldlog_ms": round(m * 1000, 2),
        "baseline_ms": round(t * 1000, 2),
        "ratio": round(r, 3),
        "ratio_of_medians": round(m / t, 3),
        "target": target,
        "verdict": "PASS" if r <= target else "OVER",
        "runs": len(mine),
    }


LABELS = {
    "launch_usable": "launch: dashboard usable (in-process)",
    "launch_figures": "launch: figures on screen (in-process)",
    "launch_painted": "launch: table painted (in-process)",
    "process_usable": "new process: dashboard usable",
    "process_figures": "new process: figures on screen",
    "process_painted": "new process: follow-ups table painted",
    "cpu_usable": "new process CPU: dashboard usable",
    "cpu_painted": "new process CPU: follow-ups table painted",
    "form": "form opens (n → field focused)",
    "search": "search first results (after debounce)",
}


def print_table(results: dict[str, dict[str, Any]]) -> None:
    head = f"{'measure':42} {'fieldlog':>10} {'baseline':>10} {'ratio':>7} {'target':>7}"
    print(head + "  verdict")
    print("-" * (len(head) + 9))
    for key, r in results.items():
        print(
            f"{LABELS[key]:42} {r['fieldlog_ms']:8.1f}ms {r['baseline_ms']:8.1f}ms "
            f"{r['ratio']:6.2f}x {'≤' + format(r['target'], '.1f') + 'x':>7}  {r['verdict']}"
        )
    print("(medians of each side; ratio = median of the per-pair ratios)")


def load() -> tuple[float, ...] | None:
    return os.getloadavg() if hasattr(os, "getloadavg") else None


def process_results(db: str, repeat: int) -> dict[str, dict[str, Any]]:
    """The new-process launch's figures: wall time at each moment, CPU time at two."""
    mine, base = launch_processes(db, repeat)
    wall, cpu = [b[0] for b in base], [b[1] for b in base]
    results = {}
    for key, i in (("process_usable", 0), ("process_figures", 1), ("process_painted", 2)):
        results[key] = figures([m[i][0] for m in mine], wall, TARGETS[key])
    for key, i in (("cpu_usable", 0), ("cpu_painted", 2)):
        results[key] = figures([m[i][1] for m in mine], cpu, TARGETS[key])
    return results


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--repeat", "--runs", dest="repeat", type=int, default=7)
    parser.add_argument("--opens", type=int, default=3, help="form opens per session")
    parser.add_argument("--word", default="barbecue", help="the word searched")
    parser.add_argument("--db", help="an existing log to open (skips making demo data)")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "fieldlog-bench"
    )
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached demo log")
    parser.add_argument("--no-process", action="store_true", help="skip the new-process launch")
    parser.add_argument("--no-warmup", action="store_true", help="no untimed first pair")
    parser.add_argument(
        "--process-only", action="store_true", help="only the new-process launch (issue 16)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    db = args.db or str(cached_log(args.contacts, args.cache, fresh=args.fresh))
    if args.process_only:
        results = process_results(db, args.repeat)
        out = {"results": results, "detail": {"log": db, "repeat": args.repeat}}
        if args.json:
            print(json.dumps(out, indent=2, default=str))
        else:
            print(f"log {db}, {SIZE[0]}x{SIZE[1]}, {args.repeat} pairs, load {load()}")
            print_table(results)
        return out
    ours: list[FieldlogRun] = []
    theirs: list[BaselineRun] = []

    async def pair() -> tuple[FieldlogRun, BaselineRun]:
        a = await fieldlog_session(db, args.word, args.opens)
        b = await baseline_session(db, a, args.opens)
        return a, b

    if not args.no_warmup:
        asyncio.run(pair())
    for _ in range(args.repeat):
        a, b = asyncio.run(pair())
        ours.append(a)
        theirs.append(b)

    base_launch = [b.launch for b in theirs]
    results = {
        "launch_usable": figures([a.usable for a in ours], base_launch, TARGETS["launch_usable"]),
        "launch_figures": figures(
            [a.figures for a in ours], base_launch, TARGETS["launch_figures"]
        ),
        "launch_painted": figures(
            [a.followups for a in ours], base_launch, TARGETS["launch_painted"]
        ),
    }
    if not args.no_process:
        results.update(process_results(db, args.repeat))
    results["form"] = figures(
        [statistics.median(a.forms) for a in ours],
        [statistics.median(b.forms) for b in theirs],
        TARGETS["form"],
    )
    results["search"] = figures(
        [a.search for a in ours], [b.search for b in theirs], TARGETS["search"]
    )
    last = ours[-1]
    detail = {
        "log": db,
        "size": list(SIZE),
        "repeat": args.repeat,
        "word": args.word,
        "debounce": last.debounce,
        "form_widgets": dict(sorted(spec_counts(last.spec).items())),
        "search_calls": [
            {"call": str(c), "worker_ms": round(c.seconds * 1000, 2), "rows": c.rows}
            for c in last.calls
        ],
        "search_rows_shown": len(last.rows),
        "followups_table_ms": round(statistics.median(a.followups for a in ours) * 1000, 2),
        "baseline_query_ms": round(statistics.median(b.query for b in theirs) * 1000, 2),
        "baseline_fill_repaint_ms": round(statistics.median(b.fill for b in theirs) * 1000, 2),
        "python": platform.python_version(),
        "load": load(),
    }
    out = {"results": results, "detail": detail}
    if args.json:
        print(json.dumps(out, indent=2, default=str))
        return out
    print(f"log {db}, {SIZE[0]}x{SIZE[1]}, {args.repeat} pairs, load {detail['load']}")
    print_table(results)
    print(f"the dashboard's follow-ups table filled (in-process, no target): "
          f"{detail['followups_table_ms']:.1f} ms")  # fmt: skip
    widgets = ", ".join(f"{k} {n}" for k, n in detail["form_widgets"].items())
    print(f"form widgets mirrored: {widgets}")
    print(f"search {args.word!r}: {detail['debounce']}; {len(last.rows)} rows shown; baseline = "
          f"raw query {detail['baseline_query_ms']:.1f} ms + fill and repaint "
          f"{detail['baseline_fill_repaint_ms']:.1f} ms")  # fmt: skip
    for c in detail["search_calls"]:
        print(f"  the screen called {c['call']}: {c['worker_ms']:.1f} ms in its worker, "
              f"{c['rows']} rows")  # fmt: skip
    if not last.calls:
        print("  (no store call carrying the word was recorded: the baseline query is 0)")
    return out


if __name__ == "__main__":
    main()

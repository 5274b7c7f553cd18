"""One table's export shared by two processes (``write_table(processes=2)`` on a big table):
the same bytes in about half the wall time on two free cores, but some 20% more CPU in all, so
the CLI no longer asks for it (docs/export.md, "Streaming").

The parent and a forked child take rowid ranges one at a time from either end, the child
writes its ranges to a temporary file, and the parent appends them in order at the end
(by the kernel, ``sendfile``, when the output is a file or a pipe). Only for single-threaded
callers: it forks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from fieldlog.errors import FieldlogError
from fieldlog.export.lines import Lines, csv_batches

if TYPE_CHECKING:
    from fieldlog.db.store import Store


SCRATCH_PREFIX = "fieldlog-export-"


def _private(path: Path) -> int:
    """A new owner-only file (0600), created exclusively."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    return os.open(path, flags, 0o600)


def sweep_scratch(folder: str | None) -> None:
    """Remove the temporary folders of split exports that were killed (their process gone;
    only where a process id can be asked, see :func:`fieldlog.db.leftovers.pid_alive`)."""
    import re
    import shutil
    import tempfile

    from fieldlog.db.leftovers import pid_alive

    where = folder or tempfile.gettempdir()
    pattern = re.compile(re.escape(SCRATCH_PREFIX) + r"(\d{1,10})-")
    try:
        names = os.listdir(where)
    except OSError:
        return
    for name in names:
        m = pattern.match(name)
        if m and int(m[1]) != os.getpid() and pid_alive(int(m[1])) is False:
            path = os.path.join(where, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)


def can_split() -> bool:
    """Whether this platform can fork a helper process (not Windows, which has no ``os.fork``:
    the split is skipped and one process writes the table there, the same bytes). Without
    ``os.sendfile`` (Windows, some Unixes) a split still works: :func:`append_spans` copies."""
    if not hasattr(os, "fork"):
        return False
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def write_split(
    store: Store,
    table: str,
    columns: tuple[str, ...],
    filters: dict[str, str | None],
    out: TextIO,
    chunks: list[tuple[int | None, int | None]],
    *,
    raw: bool,
    eol: str,
    strict: bool,
    batch: int,
    progress: Callable[[int], None] | None,
) -> int:
    """The rowid ranges ``chunks`` shared with a forked child, one range at a time: this
    process takes them from the first on and writes them to ``out``, the child from the last
    back into a temporary file, until they meet; then the child's parts are appended in order.
    Taking ranges as they go keeps both busy to the end whatever the rows filtered out."""
    import json
    import multiprocessing
    import sys
    import tempfile

    ctx = multiprocessing.get_context("fork")
    shared = ctx.RawArray("q", 3)  # the next range from the front, from the back; child's rows
    shared[0], shared[1] = 0, len(chunks) - 1
    lock = ctx.Lock()
    encoding = getattr(out, "encoding", None) or "utf-8"
    errors = getattr(out, "errors", None) or "strict"

    def take(front: bool) -> int | None:
        with lock:
            if shared[0] > shared[1]:
                return None
            i = shared[0] if front else shared[1]
            shared[0 if front else 1] += 1 if front else -1
            return i

    lines = Lines(store, columns, raw=raw, eol=eol)  # the zone's table, inherited by the child
    # An encrypted log's rows in clear go to a memory-backed folder only (Store.scratch_dir).
    # The folder (0700) carries this process's id: the next split export removes the folders
    # of killed ones (sweep_scratch); the files in it are owner-only too.
    scratch = store.scratch_dir()
    sweep_scratch(scratch)
    prefix = f"{SCRATCH_PREFIX}{os.getpid()}-"
    with tempfile.TemporaryDirectory(prefix=prefix, dir=scratch) as tmp:
        part = Path(tmp) / "parts.csv"
        index = Path(tmp) / "parts.json"

        def child() -> None:
            done = []
            with store.reopen() as own, open(_private(part), "wb") as fh:
                mine = Lines(own, columns, raw=raw, eol=eol)
                while (i := take(front=False)) is not None:
                    start, count = fh.tell(), 0
                    for text, rows in csv_batches(own, mine, table, columns, filters, strict=strict,
                                             batch=batch, rowids=chunks[i]):  # fmt: skip
                        fh.write(text.encode(encoding, errors))
                        count += rows
                        shared[2] += rows
                    done.append((i, start, fh.tell(), count))
            with open(_private(index), "w", encoding="utf-8") as fh_index:
                fh_index.write(json.dumps(done))

        for stream in (out, sys.stdout, sys.stderr):  # else the child would flush them too
            if stream is not None:
                stream.flush()
        proc = ctx.Process(target=child, daemon=True)
        proc.start()
        n = 0
        try:
            while (i := take(front=True)) is not None:
                for text, rows in csv_batches(store, lines, table, columns, filters, strict=strict,
                                         batch=batch, rowids=chunks[i]):  # fmt: skip
                    out.write(text)
                    n += rows
                    if progress is not None:
                        progress(n + shared[2])
        except BaseException:
            proc.kill()
            proc.join()
            raise
        proc.join()
        if proc.exitcode != 0 or not index.exists():
            raise FieldlogError(
                f"The export of {table} failed in its second process (exit {proc.exitcode}): "
                "try again."
            )
        parts = sorted(json.loads(index.read_text()))
        append_spans(out, part, [(start, end) for _, start, end, _ in parts], encoding, errors)
        n += sum(count for *_, count in parts)
    if progress is not None:
        progress(n)
    return n


def append_spans(
    out: TextIO, path: Path, spans: list[tuple[int, int]], encoding: str, errors: str
) -> None:
    """The byte ranges ``spans`` of the file ``path``, in that order, written at the end of
    ``out``: by the kernel (``sendfile``) when ``out`` is a file or a pipe."""
    out.flush()
    raw_out = getattr(out, "buffer", None)
    fd = -1
    if raw_out is not None:
        raw_out.flush()
        try:
            fd = raw_out.fileno()
        except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
            fd = -1
    with open(path, "rb") as fh:
        for start, end in spans:
            at = start
            sendfile = getattr(os, "sendfile", None)  # none on Windows: copy below
            while sendfile is not None and fd >= 0 and at < end:
                try:
                    sent = sendfile(fd, fh.fileno(), at, min(end - at, 1 << 30))
                except OSError:  # e.g. an O_APPEND file: copy below
                    fd = -1
                    break
                if sent == 0:
                    break
                at += sent
            fh.seek(at)
            while at < end:
                data = fh.read(min(end - at, 1 << 22))
                if not data:
                    break
                if raw_out is not None:
                    raw_out.write(data)
                else:
                    out.write(data.decode(encoding, errors))
                at += len(data)
    if raw_out is not None:
        raw_out.flush()

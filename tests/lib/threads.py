"""Running one function in several threads at once, as laptops syncing at the same moment do,
and collecting what they raised (a thread's exception is otherwise lost); a reader tailing a
remote meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def at_once(fn: Callable[[], object], n: int) -> list[BaseException]:
    """Run ``fn`` in ``n`` threads released together (a barrier), wait for all of them, and
    return what they raised (empty: none did)."""
    gate = threading.Barrier(n)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            gate.wait()
            fn()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@contextmanager
def tailing(url: str, page: int, errors: list[BaseException]) -> Iterator[list[int]]:
    """A reader pulling from the remote at ``url`` with a cursor, ``page`` changes at a time,
    in a thread while the block runs and until it has read everything after it: yields the
    seqs it sees, in order (complete when the block has ended). What it raises goes to
    ``errors``."""
    from fieldlog.db.remotes.factory import open_remote

    done = threading.Event()
    seen: list[int] = []

    def tail() -> None:
        remote = open_remote(url)
        cursor = 0
        try:
            while True:
                finished = done.is_set()
                rows = remote.pull(cursor, page)
                seen.extend(c.seq for c in rows)
                cursor = rows[-1].seq if rows else cursor
                if finished and not rows:
                    return
        except BaseException as exc:
            errors.append(exc)
        finally:
            remote.close()

    reader = threading.Thread(target=tail)
    reader.start()
    try:
        yield seen
    finally:
        done.set()
        reader.join()

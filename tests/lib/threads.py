"""Running one function in several threads at once, as laptops syncing at the same moment do,
and collecting what they raised (a thread's exception is otherwise lost)."""

from __future__ import annotations

import threading
from collections.abc import Callable


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

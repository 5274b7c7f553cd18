"""The fuzz and crash counts (tests/lib/run.py's ``RUN_COUNTS``) of a run split over workers.

``pytest`` runs the suite in worker processes (pytest-xdist, ``-n auto`` in pyproject.toml's
``addopts``), and each worker counts only the cases it ran. Each worker hands its counts to
the controller when it finishes (``workeroutput``, carried back by xdist), and the controller
adds them into its own ``RUN_COUNTS``, which the root conftest prints at the end of the run,
as in a run without workers (``-n 0``, where these hooks see no workers and do nothing).

The root ``tests/conftest.py`` registers this module as a plugin (``pytest_plugins``).
"""

from __future__ import annotations

import pytest

from tests.lib.run import RUN_COUNTS

KEY = "fieldlog_run_counts"


def merge(counts: dict[str, int]) -> None:
    """Add a worker's counts into this process's ``RUN_COUNTS``."""
    for name, n in counts.items():
        RUN_COUNTS[name] = RUN_COUNTS.get(name, 0) + int(n)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On a worker: hand this worker's counts to the controller."""
    out = getattr(session.config, "workeroutput", None)
    if out is not None:
        out[KEY] = dict(RUN_COUNTS)


@pytest.hookimpl(optionalhook=True)  # an xdist hook: absent when xdist is not loaded
def pytest_testnodedown(node: object, error: object) -> None:
    """On the controller: a worker finished; add the counts it handed over."""
    merge(getattr(node, "workeroutput", {}).get(KEY, {}))  # none from a crashed worker

"""``fieldlog config get|set``: the officer's settings file (:mod:`fieldlog.config`)."""

from __future__ import annotations

from fieldlog.cli.common import _typer

app = _typer("Your settings: default neighborhood, officer, remote, follow-up days, theme.")

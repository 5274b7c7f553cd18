"""`fieldlog import`: registered on the CLI app (see the end of fieldlog/cli.py)."""

from __future__ import annotations

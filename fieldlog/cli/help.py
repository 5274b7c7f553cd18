"""Help that reads like the README: an example under every command, metavars such as ``WHEN``,
``ID`` and ``TEXT`` instead of Python types. Applied to each command as the root group hands it
out (:meth:`fieldlog.cli.common.FieldlogGroup.get_command`), so no command module repeats it."""

from __future__ import annotations

from typing import Any


def polish(command: Any, path: str) -> Any:
    """``command`` (a Click command at ``path``, e.g. ``"concern update"``) made ready to show
    its help. Filled in by issue 11's help work."""
    return command

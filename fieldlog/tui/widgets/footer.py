"""The footer every screen shows: whole keys only, never cut at 80 columns."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # private: Textual is pinned to a minor version


class KeysFooter(Footer):
    """Textual's Footer cuts whatever passes the right edge, at 80 columns the screen's own
    keys too. This one shows whole keys only: the screen's own first, then Help, then the
    app's other keys while they fit, and the command palette on the right. A key left off is
    still in Help (?) and, for actions, in the palette."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(compact=True, **kwargs)

    def on_resize(self) -> None:
        self.call_after_refresh(self.recompose)

    def shown(self, width: int) -> list[tuple[Binding, bool, str]]:
        """The keys that fit in ``width`` cells, in the order they are shown."""
        own: list[tuple[Binding, bool, str]] = []
        app: list[tuple[Binding, bool, str]] = []
        actions: set[str] = set()
        palette = self.app.COMMAND_PALETTE_BINDING
        for key, (node, binding, enabled, tooltip) in self.screen.active_bindings.items():
            if not binding.show or binding.action in actions or key == palette:
                continue
            actions.add(binding.action)
            (app if node is self.app else own).append((binding, enabled, tooltip))
        app.sort(key=lambda b: b[0].action.removeprefix("app.") != "help")
        budget = width - (self.palette_width() if self.show_command_palette else 0)
        out, used = [], 0
        for item in own + app:
            need = self.key_width(item[0])
            if used + need <= budget:
                out.append(item)
                used += need
        return out

    def key_width(self, binding: Binding) -> int:
        """Cells one compact key takes: the key, a space, its label, the margin after it."""
        return len(self.app.get_key_display(binding)) + 1 + len(binding.description) + 1

    def palette_width(self) -> int:
        if not self.app.ENABLE_COMMAND_PALETTE:
            return 0
        active = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        return 0 if active is None else self.key_width(active.binding) + 1  # its left border

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        width = self.size.width or self.app.size.width
        for binding, enabled, tooltip in self.shown(width):
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE and palette:
            yield FooterKey(
                palette.binding.key,
                self.app.get_key_display(palette.binding),
                palette.binding.description,
                palette.binding.action,
                classes="-command-palette",
                disabled=not palette.enabled,
                tooltip=palette.binding.tooltip or palette.binding.description,
            )

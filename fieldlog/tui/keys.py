"""Keys handled in the order they were typed, and where the cursor is shown.

Textual hands a key to the focused widget's queue and goes on to the next key at once; a Tab
then moves the focus only once the field has handled it, so under load the next letters went
to the field the officer had left (``n``, ``abc``, Tab, ``Pastor`` gave ``Person torEast``),
and letters typed while a screen opened went nowhere. :class:`KeysInOrderApp` holds each key
until the one before has been handled all the way up to the app (following it, and the
messages handling it set off, queue by queue), and while a newly shown screen takes the focus.
A letter an Input took is done at once, so typing costs what it costs in plain Textual.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING

from textual import events
from textual.app import App
from textual.screen import Screen

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

SETTLE_SECONDS = 2.0  # longest a key waits for a screen that is opening to take the focus
KEY_SECONDS = 3.0  # longest a key waits for the one before (a loaded laptop is slow, not stuck)


class KeysInOrderApp(App[None]):
    """An App whose keys wait their turn (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._keys: deque[events.Key] = deque()
        self._key_busy = 0.0  # monotonic time the key in flight was sent; 0 for none
        self._key_node: MessagePump | None = None  # where the key in flight is now
        self._settle: tuple[Screen[object], float] | None = None

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key) or event.is_forwarded:
            await super().on_event(event)
            return
        if not getattr(event, "_fieldlog_go", False):
            now = time.monotonic()
            if self._keys or self._key_busy or self._settling(now):
                self._keys.append(event)  # typed while another key is on its way: waits
                self._next_key()
                return
            self._key_busy = now  # nothing in the way: straight on
        await super().on_event(event)
        target = self.focused or self.screen
        if event.is_forwarded:
            self._after_key(target, event)  # done when it has bubbled up to the app
        else:
            self._key_done()  # a priority binding took it here

    def _next_key(self) -> None:
        """Send the next waiting key once the one before is done (also called by a timer,
        so a key whose handler never reported back times out)."""
        if not self._keys:
            return
        now = time.monotonic()
        if self._key_busy and now - self._key_busy < KEY_SECONDS and not self._key_lost():
            return  # the last key is still on its way
        if self._settling(now):
            self.set_timer(0.02, self._next_key)
            return
        typed = self._keys.popleft()
        key = events.Key(typed.key, typed.character)
        # as sent by whoever sent the key (not the widget whose callback runs this): a key
        # "sent" by a container would stop bubbling there and never reach the app's bindings
        key._sender = typed._sender
        key._fieldlog_go = True  # type: ignore[attr-defined]
        self._key_busy = now
        self.post_message(key)

    def _settling(self, now: float) -> bool:
        """True while the screen on top is opening and has not taken the focus yet."""
        screen = self.screen
        if screen.focused is not None:
            return False
        if self._settle is None or self._settle[0] is not screen:
            self._settle = (screen, now)
        if now - self._settle[1] >= SETTLE_SECONDS or screen.AUTO_FOCUS is None:
            return False
        # mounted with nothing to focus: no cursor will come, the key goes to the screen
        return not screen.is_mounted or bool(screen.focus_chain)

    def _key_lost(self) -> bool:
        """The widget the key in flight was waiting in has closed (a dialog the key shut):
        its queue will not report back, so the next key need not wait."""
        node = self._key_node
        return node is not None and (node._closing or node._closed or not node.is_attached)

    def _after_key(self, node: MessagePump, key: events.Key | None = None) -> None:
        """The key (and what handling it set off) has left ``node``'s children: wait for
        ``node``'s queue, which holds it, then go on up."""
        if node is self:  # the app's queue is in order: the next key is posted after it
            self._key_done()
            return
        self._key_node = node
        if not node.call_later(self._key_at, node, key, False):
            self._key_left(node, key)  # closed meanwhile: the key went no further there

    def _key_at(self, node: MessagePump, key: events.Key | None, again: bool) -> None:
        """Runs in ``node``'s queue after the key. Once more, after the messages handling it
        posted here (an Input's Submitted, whose handler may move the focus), then up."""
        if not again and node.call_later(self._key_at, node, key, True):
            return
        self._key_left(node, key)

    def _key_left(self, node: MessagePump, key: events.Key | None) -> None:
        # A letter an Input took goes no further, and what it set off (Changed) moves no
        # focus: done, so typing stays as fast as plain Textual.
        if key is not None and key._stop_propagation and key.is_printable:
            if not isinstance(node, Screen):
                self._key_done()
                return
        parent = node._parent
        if parent is None:
            self._key_done()
            return
        self._after_key(parent, key)

    def _key_done(self) -> None:
        self._key_busy = 0.0
        self._key_node = None
        self._next_key()

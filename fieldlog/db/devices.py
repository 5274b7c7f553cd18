"""Device keys and the department's trust log: who may change records through sync.

STUB (issue 12 groundwork): the API the sync round calls. Helper B fills it in.

- Every log has a device key pair (Ed25519, ``cryptography``); the private key lives in the
  log's ``meta`` (so it is encrypted with an encrypted log), created on first need.
- Every change pushed is signed (:meth:`Trust.sign`); every pulled change is checked
  (:meth:`Trust.verdict`): only changes signed by a device the department enrolled, and not
  revoked, apply; the rest are quarantined with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fieldlog.db.remotes.types import Head, OutChange, Remote, RemoteChange
    from fieldlog.db.store import Store


class Trust:
    """The trust state of one sync round with one remote."""

    def __init__(self, store: Store, remote: Remote, store_id: str) -> None:
        self.store = store
        self.remote = remote
        self.store_id = store_id

    def prepare(self) -> list[str]:
        """Before pulling: make sure this device's key is registered with the remote, read
        and check the remote's trust log. Returns notices for the officer (one line each)."""
        return []

    def sign(self, change: OutChange) -> str:
        """The signature of a change this device pushes."""
        return ""

    def sign_head(self, seq: int, hash_: str) -> str:
        """The signature of this device's audit head."""
        return ""

    def verdict(self, change: RemoteChange) -> str | None:
        """None when ``change`` may apply; else why it is quarantined (one line)."""
        return None

    def head_ok(self, head: Head) -> bool:
        """Whether a head the store holds was signed by its device."""
        return True

"""The department's trust log, read: who is enrolled, with which key and role, who revoked whom.

A store keeps an append-only list of entries (:class:`fieldlog.db.remotes.types.TrustRecord`);
this module replays them, in order, into a :class:`TrustState`. It trusts nothing the store
says about an entry except the entry's own signed JSON:

- ``register``: a device announces its public key and officer, signed with that key. The
  first valid one of the log makes that device the store's **founder**, a supervisor.
- ``trust`` (a device and key, a role ``officer`` or ``supervisor``) and ``revoke`` count only
  when signed by a device that is, at that point of the log, a trusted, unrevoked supervisor.
  A revoke is final for that key; it records the store's head then (``upto``): the device's
  changes numbered up to it still apply on every laptop (they did on those that had pulled
  them), later ones never do.
- ``legacy``: the founder's statement, at founding, that the store's changes numbered up to
  ``upto`` came from before signatures (an upgrading department); only the first counts.

An entry whose JSON names another store, another kind or subject than its row, or whose
signature does not match, is ignored (and counted); an exact copy of an earlier entry too, so
an old ``trust`` replayed after a ``revoke`` does nothing. No ``cryptography`` import here
beyond :func:`fieldlog.db.devkeys.verify`'s own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fieldlog.db import devkeys

if TYPE_CHECKING:
    from fieldlog.db.remotes.types import TrustRecord

ROLES = ("officer", "supervisor")


@dataclass
class Device:
    """One registered (device, key): what ``fieldlog dept devices`` lists."""

    device: str
    key: str  # public key hex
    officer: str
    registered_at: str
    pushed_by: str | None  # the database role it registered from (PostgreSQL)
    record_id: int
    role: str | None = None  # once trusted
    trusted: bool = False
    trusted_by: str | None = None
    trusted_at: str | None = None
    revoked: bool = False
    revoked_by: str | None = None
    revoked_at: str | None = None
    revoked_upto: int = 0
    founder: bool = False

    @property
    def fingerprint(self) -> str:
        return devkeys.fingerprint(self.key)

    @property
    def status(self) -> str:
        if self.revoked:
            return "revoked"
        return "trusted" if self.trusted else "waiting"

    @property
    def supervisor(self) -> bool:
        return self.trusted and not self.revoked and self.role == "supervisor"

    def as_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "officer": self.officer,
            "fingerprint": self.fingerprint,
            "role": self.role,
            "status": self.status,
            "founder": self.founder,
            "registered_at": self.registered_at,
            "trusted_by": self.trusted_by,
            "trusted_at": self.trusted_at,
            "revoked_by": self.revoked_by,
            "revoked_at": self.revoked_at,
            "pushed_by": self.pushed_by,
        }


@dataclass
class TrustState:
    devices: list[Device] = field(default_factory=list)
    founder: Device | None = None
    legacy_upto: int = 0
    legacy_count: int | None = None
    ignored: int = 0  # entries that did not count (bad signature, not a supervisor, copies)
    count: int = 0  # entries read
    digest: str = ""  # of every entry read, in order (a laptop pins it: see prefix_digest)

    def of(self, device: str) -> list[Device]:
        return [d for d in self.devices if d.device == device]

    def find(self, device: str, key: str) -> Device | None:
        for d in self.devices:
            if d.device == device and d.key == key:
                return d
        return None


def _entry_digest(h: Any, r: TrustRecord) -> None:
    parts = [str(x) for x in (r.kind, r.subject, r.record, r.sig, r.signer)]
    h.update(json.dumps(parts).encode() + b"\n")


def prefix_digest(records: Sequence[TrustRecord], n: int) -> str | None:
    """The digest of the first ``n`` entries (None: the log has fewer)."""
    if len(records) < n:
        return None
    h = hashlib.sha256()
    for r in records[:n]:
        _entry_digest(h, r)
    return h.hexdigest()


def _fields(r: TrustRecord, store_id: str) -> dict[str, Any] | None:
    """The entry's signed JSON, when it agrees with its row and is signed by the key it
    names (``by_key``); else None."""
    try:
        data = json.loads(r.record)
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    if (
        data.get("store") != store_id
        or data.get("kind") != r.kind
        or data.get("device", "") != r.subject
        or data.get("by") != r.signer
        or not isinstance(data.get("by_key"), str)
        or not isinstance(data.get("at", ""), str)
    ):
        return None
    if not devkeys.verify(data["by_key"], devkeys.trust_text(r.record), r.sig):
        return None
    return data


def build(store_id: str, records: Sequence[TrustRecord]) -> TrustState:
    """Replay the trust log (see the module's docstring)."""
    state = TrustState()
    seen: set[str] = set()
    h = hashlib.sha256()
    for r in records:
        state.count += 1
        _entry_digest(h, r)
        text = str(r.record)
        if text in seen:
            state.ignored += 1
            continue
        seen.add(text)
        data = _fields(r, store_id)
        if data is None or not _apply(state, r, data):
            state.ignored += 1
    state.digest = h.hexdigest()
    return state


def _signer(state: TrustState, data: dict[str, Any]) -> Device | None:
    d = state.find(str(data["by"]), str(data["by_key"]))
    return d if d is not None and d.supervisor else None


def _apply(state: TrustState, r: TrustRecord, data: dict[str, Any]) -> bool:
    kind = r.kind
    at = str(data.get("at", ""))
    if kind == "register":
        key, officer = data.get("key"), data.get("officer")
        if key != data["by_key"] or r.signer != r.subject or not isinstance(officer, str):
            return False
        if state.find(r.subject, key) is not None:
            return False  # registered already: the first one stands
        dev = Device(r.subject, key, officer[:200], at, r.pushed_by, r.id)
        if state.founder is None:
            dev.founder = dev.trusted = True
            dev.role, dev.trusted_by, dev.trusted_at = "supervisor", officer[:200], at
            state.founder = dev
        state.devices.append(dev)
        return True
    signer = _signer(state, data)
    if signer is None:
        return False
    if kind == "legacy":
        upto, count = data.get("upto"), data.get("count")
        if state.legacy_upto or not isinstance(upto, int) or isinstance(upto, bool):
            return False
        if upto <= 0 or signer is not state.founder:
            return False
        state.legacy_upto = upto
        state.legacy_count = count if isinstance(count, int) else None
        return True
    target = state.find(r.subject, str(data.get("key")))
    if target is None or target.revoked:
        return False
    if kind == "trust":
        role = data.get("role")
        if role not in ROLES:
            return False
        target.trusted, target.role = True, role
        target.trusted_by, target.trusted_at = signer.officer, at
        return True
    if kind == "revoke":
        upto = data.get("upto")
        target.revoked = True
        target.revoked_by, target.revoked_at = signer.officer, at
        target.revoked_upto = upto if isinstance(upto, int) and not isinstance(upto, bool) else 0
        return True
    return False

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

The replay is incremental: :func:`extend` applies entries on top of a state read before,
exactly as :func:`build` would have read them in one go (``build(a + b) == extend(build(a),
b)``), and a state survives :func:`dumps` / :func:`loads` whole (a laptop keeps it between
syncs, :mod:`fieldlog.db.devices`). So a state holds, beside what the entries mean, what the
replay needs to go on (the hashes of the records seen, for copies) and what a laptop needs to
check the store still holds what it read (a running digest, and each entry's id and hash).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
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


STATE_VERSION = 2  # of dumps(); anything else loads as None (the laptop reads the log again)
HASH_CHARS = 32  # hex digits kept of an entry's or a record's SHA-256 (128 bits)


@dataclass
class TrustState:
    store: str = ""  # the store id the entries were checked against
    devices: list[Device] = field(default_factory=list)
    founder: Device | None = None  # one of ``devices`` (the same object)
    legacy_upto: int = 0
    legacy_count: int | None = None
    ignored: int = 0  # entries that did not count (bad signature, not a supervisor, copies)
    count: int = 0  # entries read
    digest: str = ""  # running digest of every entry read, in order (see continues)
    last_id: int = 0  # the id of the last entry read (0: none)
    entries: list[tuple[int, str]] = field(default_factory=list)  # (id, mark) of each, in order
    seen: set[str] = field(default_factory=set)  # hashes of the record texts read (copies)

    def of(self, device: str) -> list[Device]:
        """The registered keys of ``device``. Indexed once per list of devices (every pulled
        change asks: a scan of every device grew each change's cost with the laptops)."""
        mark = (id(self.devices), len(self.devices))
        index = self.__dict__.get("_by_device")
        if index is None or index[0] != mark:
            by: dict[str, list[Device]] = {}
            for d in self.devices:
                by.setdefault(d.device, []).append(d)
            index = self.__dict__["_by_device"] = (mark, by)
        return list(index[1].get(device, ()))

    def find(self, device: str, key: str) -> Device | None:
        for d in self.devices:
            if d.device == device and d.key == key:
                return d
        return None


def _entry_text(r: TrustRecord) -> bytes:
    parts = [str(x) for x in (r.kind, r.subject, r.record, r.sig, r.signer)]
    return json.dumps(parts).encode() + b"\n"


def _entry_digest(h: Any, r: TrustRecord) -> None:
    h.update(_entry_text(r))


def prefix_digest(records: Sequence[TrustRecord], n: int) -> str | None:
    """The digest the previous version pinned (``{"n", "digest"}``): of the first ``n``
    entries (None: the log has fewer). Only read to check such a pin, once."""
    if len(records) < n:
        return None
    h = hashlib.sha256()
    for r in records[:n]:
        _entry_digest(h, r)
    return h.hexdigest()


def _entry_hash(r: TrustRecord) -> str:
    return hashlib.sha256(_entry_text(r)).hexdigest()


def _chain(digest: str, entry_hash: str) -> str:
    return hashlib.sha256(f"{digest}:{entry_hash}".encode()).hexdigest()


def mark(r: TrustRecord) -> tuple[int, str]:
    """An entry's id and (a prefix of) its hash: what :attr:`TrustState.entries` keeps of it,
    so an entry fetched again can be compared with what was read (pushed_by is not in it: the
    store sets that, as before)."""
    return r.id, _entry_hash(r)[:HASH_CHARS]


def continues(state: TrustState, records: Sequence[TrustRecord]) -> bool:
    """Whether ``records`` (a whole log, in order) starts with exactly the entries ``state``
    read: none gone, changed, inserted or reordered (ids aside)."""
    if len(records) < state.count:
        return False
    digest = ""
    for r in records[: state.count]:
        digest = _chain(digest, _entry_hash(r))
    return digest == state.digest


def _record_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]


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
    return extend(TrustState(store=store_id), records)


def extend(state: TrustState, records: Sequence[TrustRecord]) -> TrustState:
    """Replay ``records`` (the entries after those ``state`` read, in order) on top of
    ``state``, which is changed and returned: ``extend(build(s, a), b) == build(s, a + b)``.
    Only these entries' signatures are checked."""
    for r in records:
        state.count += 1
        entry = _entry_hash(r)
        state.digest = _chain(state.digest, entry)
        state.entries.append((r.id, entry[:HASH_CHARS]))
        state.last_id = r.id
        text = _record_hash(str(r.record))
        if text in state.seen:
            state.ignored += 1
            continue
        state.seen.add(text)
        data = _fields(r, state.store)
        if data is None or not _apply(state, r, data):
            state.ignored += 1
    return state


def dumps(state: TrustState) -> str:
    """The state as JSON text (what a laptop keeps in its log's meta)."""
    return json.dumps(
        {
            "v": STATE_VERSION,
            "store": state.store,
            "devices": [asdict(d) for d in state.devices],
            "founder": state.founder.record_id if state.founder is not None else None,
            "legacy_upto": state.legacy_upto,
            "legacy_count": state.legacy_count,
            "ignored": state.ignored,
            "count": state.count,
            "digest": state.digest,
            "last_id": state.last_id,
            "entries": state.entries,
            "seen": sorted(state.seen),
        },
        separators=(",", ":"),
    )


_DEVICE_FIELDS = {f.name for f in fields(Device)}


def loads(text: str | None, store_id: str) -> TrustState | None:
    """A state :func:`dumps` wrote for store ``store_id``; None when ``text`` is anything else
    (missing, another version, another store, not consistent): the caller reads the log whole."""
    if not text:
        return None
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("v") != STATE_VERSION:
            return None
        if data["store"] != store_id:
            return None
        devices = []
        for d in data["devices"]:
            if not isinstance(d, dict) or set(d) != _DEVICE_FIELDS:
                return None
            devices.append(Device(**d))
        founder_id = data["founder"]
        founder = next((d for d in devices if d.founder and d.record_id == founder_id), None)
        if founder_id is not None and founder is None:
            return None
        entries = [(int(i), str(h)) for i, h in data["entries"]]
        state = TrustState(
            store=store_id,
            devices=devices,
            founder=founder,
            legacy_upto=int(data["legacy_upto"]),
            legacy_count=None if data["legacy_count"] is None else int(data["legacy_count"]),
            ignored=int(data["ignored"]),
            count=int(data["count"]),
            digest=str(data["digest"]),
            last_id=int(data["last_id"]),
            entries=entries,
            seen={str(x) for x in data["seen"]},
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if state.count != len(entries) or state.last_id != (entries[-1][0] if entries else 0):
        return None
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

"""A device's Ed25519 key pair, and the exact texts it signs (changes, heads, trust records).

The private key lives in the log's ``meta`` (key ``device_key``), so an encrypted log keeps
it encrypted, and it is bound to the device id it was made for: a copied log (a restored
backup, a cloned laptop) that takes a new device id also takes a new key. ``cryptography`` is
imported inside the functions that need it: ``fieldlog add`` never loads it.

Every signed text starts with its purpose (``fieldlog-change``, ``fieldlog-head``,
``fieldlog-trust``), so a signature made for one can never pass for another, and names the
store, so one store's signatures mean nothing in another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fieldlog.db.remotes.types import RemoteChange
    from fieldlog.db.store import Store

KEY_META = "device_key"  # {"device": id, "private": hex of the 32-byte Ed25519 seed}
FINGERPRINT_CHARS = 16


def fingerprint(public_hex: str) -> str:
    """What a person reads out to confirm a key: the first 16 hex digits of its SHA-256."""
    try:
        raw = bytes.fromhex(public_hex)
    except ValueError:
        raw = public_hex.encode()
    return hashlib.sha256(raw).hexdigest()[:FINGERPRINT_CHARS]


def _canon(parts: list[Any]) -> bytes:
    return json.dumps(parts, ensure_ascii=True, separators=(",", ":")).encode()


def change_text(
    store_id: str, origin: str, origin_seq: int, tbl: str, row_id: str, hlc: str, body: str
) -> bytes:
    """What a device signs for one change it pushes."""
    return b"fieldlog-change\n" + _canon([store_id, origin, origin_seq, tbl, row_id, hlc, body])


def remote_change_text(store_id: str, change: RemoteChange) -> bytes:
    """What the device named by ``change.origin`` signed for a change the store holds."""
    return change_text(
        store_id,
        change.origin,
        change.origin_seq,
        change.tbl,
        change.row_id,
        change.hlc,
        change.text,
    )


def head_text(store_id: str, origin: str, seq: int, hash_: str) -> bytes:
    """What a device signs for its audit head."""
    return b"fieldlog-head\n" + _canon([store_id, origin, seq, hash_])


def trust_text(record: str) -> bytes:
    """What a device signs for a trust-log entry (``record`` is its canonical JSON)."""
    return b"fieldlog-trust\n" + record.encode()


def record_json(fields: dict[str, Any]) -> str:
    """The canonical JSON of a trust-log entry (sorted keys, no spaces)."""
    return json.dumps(fields, sort_keys=True, ensure_ascii=True, separators=(",", ":"))


_PUBLIC: dict[str, Any] = {}  # public key hex -> loaded key (loading costs more than verifying)


def verify(public_hex: str, text: bytes, sig: str | None) -> bool:
    """Whether ``sig`` (base64) is ``public_hex``'s signature of ``text``. Never raises on
    bad input: a malformed key or signature is simply not a match."""
    if not sig or not public_hex or not isinstance(sig, str) or not isinstance(public_hex, str):
        return False
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = _PUBLIC.get(public_hex)
    if key is None:
        try:
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
        except ValueError:
            return False
        if len(_PUBLIC) > 1000:
            _PUBLIC.clear()
        _PUBLIC[public_hex] = key
    try:
        raw = base64.b64decode(sig.encode("ascii"), validate=True)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return False
    if len(raw) != 64:
        return False
    try:
        key.verify(raw, text)
    except InvalidSignature:
        return False
    return True


@dataclass
class DeviceKey:
    """This log's key pair: ``device`` is the device id it belongs to."""

    device: str
    seed: bytes
    public: str = ""  # hex of the 32-byte public key
    _private: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self._private = Ed25519PrivateKey.from_private_bytes(self.seed)
        self.public = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)

    def sign(self, text: bytes) -> str:
        return base64.b64encode(self._private.sign(text)).decode("ascii")

    def signed(self, store_id: str, change: RemoteChange) -> bool:
        """Whether ``change`` (held by store ``store_id``) is this device's, with this key's
        valid signature: not a row someone planted under its device id."""
        return change.origin == self.device and verify(
            self.public, remote_change_text(store_id, change), change.sig
        )


def _parse(value: str | None) -> tuple[str, bytes] | None:
    if not value:
        return None
    try:
        data = json.loads(value)
        seed = bytes.fromhex(data["private"])
        device = str(data["device"])
    except (ValueError, KeyError, TypeError):
        return None
    return (device, seed) if len(seed) == 32 else None


def load(store: Store, *, create: bool = True) -> DeviceKey | None:
    """This log's key for its current device id: made (and kept in ``meta``) on first need,
    and made anew when the device id changed (a copied log). None when ``create`` is False
    and there is none yet."""
    device = store.device_id()
    found = _parse(store.meta().get(KEY_META))
    if found and found[0] == device:
        return DeviceKey(device, found[1])
    if not create:
        return None
    import os

    with store.write() as tx:
        # Read again inside the write: another process may have made it meanwhile.
        row = store.conn.execute("SELECT value FROM meta WHERE key = ?", [KEY_META]).fetchone()
        found = _parse(row[0] if row else None)
        if found and found[0] == device:
            return DeviceKey(device, found[1])
        seed = os.urandom(32)
        tx.set_meta(KEY_META, json.dumps({"device": device, "private": seed.hex()}))
    return DeviceKey(device, seed)

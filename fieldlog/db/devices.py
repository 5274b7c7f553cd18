"""Device keys and the department's trust log: who may change records through sync.

- Every log has a device key pair (Ed25519, :mod:`fieldlog.db.devkeys`); the private key
  lives in the log's ``meta`` (so it is encrypted with an encrypted log), made on first need.
- Every change and audit head pushed is signed (:meth:`Trust.sign`, :meth:`Trust.sign_head`);
  every pulled change is checked (:meth:`Trust.verdict`): only changes signed by a device the
  department enrolled, and not revoked, apply (on PostgreSQL also only when pushed by the
  database role the device registered from); the rest are quarantined with the reason.
- The store's trust log is replayed by :mod:`fieldlog.db.trustlog`. A laptop pins, at its
  first sync with a store, the founder's key (``sync:{store_id}:founder``) and keeps the
  state it read of the trust log (``sync:{store_id}:trust_state``), so a sync fetches and
  verifies only the entries added since, after a cheap check that the store still holds what
  the laptop read (:meth:`Trust._recheck`); a ``dept`` command, or a check that fails, reads
  and verifies the whole log again. A trust log replaced, shortened or rewritten stops every
  change from that store applying until a supervisor checks (``fieldlog dept pin``).
  docs/devices.md says what is checked when, and what this does and does not prevent.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from fieldlog import dates
from fieldlog.db import devkeys, trustlog
from fieldlog.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from fieldlog.db.devkeys import DeviceKey
    from fieldlog.db.remotes.types import Head, OutChange, Remote, RemoteChange, TrustRecord
    from fieldlog.db.store import Store
    from fieldlog.db.trustlog import Device, TrustState

MIN_PREFIX = 6
SAMPLE = 4  # earlier entries of the trust log fetched again each sync, to compare
_sampler = random.SystemRandom()  # which ones: not guessable from outside (tests replace it)
ROLE_KEY = "dept_role"  # this device's role as last seen (fieldlog.review.ROLE_KEY)


def founder_key(store_id: str) -> str:
    return f"sync:{store_id}:founder"


def seen_key(store_id: str) -> str:
    """The previous version's pin of the trust log (``{"n", "digest"}``): checked once on a
    full read, then replaced by :func:`state_key`."""
    return f"sync:{store_id}:trust"


def state_key(store_id: str) -> str:
    """The trust state this laptop read and verified (:func:`fieldlog.db.trustlog.dumps`)."""
    return f"sync:{store_id}:trust_state"


def recheck_key(store_id: str) -> str:
    """Set while a full read found the trust log replaced or rewritten: every sync reads it
    whole again (a sync's sample missing the changed entry must not clear the problem) until
    one finds it as read before, or ``fieldlog dept pin`` accepts it."""
    return f"sync:{store_id}:trust_recheck"


def signed_by_me(store: Store, store_id: str) -> Callable[[RemoteChange], bool]:
    """Whether a change store ``store_id`` holds is this device's, signed with this log's
    own key (what :meth:`fieldlog.db.synclog.SyncLog.check_origin` counts: a row planted
    under this device id is not). No key yet for this device id: no change is."""
    key = devkeys.load(store, create=False)
    if key is None:
        return lambda change: False
    return lambda change: key.signed(store_id, change)


class TrustError(ValidationError):
    """A ``dept`` command that cannot be done (not a supervisor, no such device)."""

    def __init__(self, message: str) -> None:
        super().__init__("device", message)


class Trust:
    """The trust state of one sync round (or one ``dept`` command) with one remote."""

    def __init__(self, store: Store, remote: Remote, store_id: str) -> None:
        self.store = store
        self.remote = remote
        self.store_id = store_id
        self.state: TrustState = trustlog.TrustState()
        self.problem: str | None = None  # set: nothing from this store applies (the reason)
        self.legacy_ok = True
        self.founded = False
        self._key: DeviceKey | None = None
        self._who: dict[tuple[str, int], str] = {}
        self._loaded = False  # the state was read this round: later reads only add to it
        self.full_read = False  # this round read (and verified) the whole trust log
        self.fetched = 0  # trust-log entries fetched from the store this round
        self._kept_digest: str | None = None  # of the state kept in meta, as read

    # ------------------------------------------------------------------ this device
    @property
    def key(self) -> DeviceKey:
        """This device's key for its current device id (a copied log gets a new one)."""
        if self._key is None or self._key.device != self.store.device_id():
            self._key = devkeys.load(self.store)
            assert self._key is not None
        return self._key

    def me(self) -> Device | None:
        return self.state.find(self.key.device, self.key.public)

    # ------------------------------------------------------------------ the round
    def prepare(self, *, full: bool = False) -> list[str]:
        """Before pulling: make sure this device's key is registered with the remote, read
        and check the remote's trust log (``full``: the whole log, every signature, as the
        ``dept`` commands do; else what was added since the last sync, when the cheap check
        passes). Returns notices for the officer (one line each)."""
        key = self.key
        self._read(full=full)
        notices: list[str] = []
        if self.problem is None and self.me() is None:
            self._register()
            self._read()
        if self.problem is None:
            self._pin()
            self._check_legacy(notices)
        if self.problem is not None:
            self._keep_role(None)
            return [self.problem]
        me = self.me()
        self._keep_role(me)
        name = f"{key.device}, {self.store.officer()}, key {key.fingerprint}"
        if self.founded:
            notices.append(
                f"This device ({name}) founded the trust list of this store: it is its "
                f"supervisor. Enroll the other laptops with  fieldlog dept trust DEVICE"
            )
        elif me is None:
            notices.append(f"This device ({name}) could not register with the store.")
        elif me.revoked:
            notices.append(
                f"This device ({name}) was revoked by {me.revoked_by}: the department no "
                "longer accepts its changes (a supervisor can tell you why)."
            )
        elif not me.trusted:
            notices.append(
                f"This device ({name}) is waiting for a supervisor to trust it: "
                f"fieldlog dept trust {key.device}"
            )
        for other in self.state.of(key.device):
            if other.key != key.public:
                notices.append(
                    f"Another key ({other.fingerprint}) is registered under this device's id "
                    f"{key.device}: only {key.fingerprint} is this laptop's; a supervisor "
                    "should not trust the other (docs/devices.md)."
                )
        return notices

    def _keep_role(self, me: Device | None) -> None:
        """Keep this device's role in the store's trust list (meta ``dept_role``:
        ``supervisor``, ``officer`` or ``none``), as :func:`fieldlog.review.may_review`
        reads it between syncs. A trust list that cannot be trusted gives ``none``."""
        if me is not None and me.supervisor:
            role = "supervisor"
        elif me is not None and me.trusted and not me.revoked:
            role = "officer"
        else:
            role = "none"
        if self.store.meta().get(ROLE_KEY) != role:
            with self.store.write() as tx:
                tx.set_meta(ROLE_KEY, role)

    def _read(self, *, full: bool = False) -> None:
        """Read the store's trust log into :attr:`state` and check it against what this
        laptop read before (:attr:`problem`). The first read of a round starts from the state
        kept at the last sync and fetches only what was added (after :meth:`_recheck`), or
        reads the whole log (``full``, nothing kept, or the check failed); a later read of
        the same round (after this device added an entry) fetches only the new entries."""
        if self._loaded and not full:
            self._extend(self.remote.trust_log(after=self.state.last_id))
            return
        self._loaded = True
        meta = self.store.meta()
        kept = trustlog.loads(meta.get(state_key(self.store_id)), self.store_id)
        self._kept_digest = kept.digest if kept is not None else None
        full = full or bool(meta.get(recheck_key(self.store_id)))
        added = None if full or kept is None else self._recheck(kept)
        if kept is not None and added is not None:
            self.state = kept
            self._extend(added)
            self.full_read = False
            self.problem = self._replaced()
            return
        records = self.remote.trust_log()
        self.fetched += len(records)
        self.state = trustlog.build(self.store_id, records)
        self.full_read = True
        self.problem = self._replaced() or self._rewritten(kept, records)
        if self.problem is not None and not meta.get(recheck_key(self.store_id)):
            with self.store.write() as tx:
                tx.set_meta(recheck_key(self.store_id), "1")

    def _extend(self, records: list[TrustRecord]) -> None:
        self.fetched += len(records)
        trustlog.extend(self.state, records)

    def _recheck(self, kept: TrustState) -> list[TrustRecord] | None:
        """The entries added to the store's trust log since ``kept`` was read, when a cheap
        check finds the store still holds what was read: as many entries up to the last one
        read as were read (none deleted, none slipped in under it), the last one the same,
        and a window of :data:`SAMPLE` earlier ones, chosen at random, the same. None when it
        does not (or the remote cannot say): the caller reads the whole log."""
        remote = self.remote
        count = getattr(remote, "trust_count", None)
        entries = getattr(remote, "trust_entries", None)
        if count is None or entries is None:
            return None
        marks = kept.entries
        if count(kept.last_id) != kept.count:
            return None
        earlier = len(marks) - 1  # the last one is fetched with the new ones below
        if earlier > 0:
            width = min(SAMPLE, earlier)
            start = _sampler.randrange(earlier - width + 1)
            after = marks[start - 1][0] if start else 0
            got = entries(after, marks[start + width - 1][0])
            self.fetched += len(got)
            if [trustlog.mark(r) for r in got] != marks[start : start + width]:
                return None
        records = remote.trust_log(after=marks[-2][0] if earlier > 0 else 0)
        if marks:
            if not records or trustlog.mark(records[0]) != marks[-1]:
                self.fetched += len(records)
                return None
            self.fetched += 1
            records = records[1:]
        return records

    def _replaced(self) -> str | None:
        """Why nothing from this store applies when its founder is not the one pinned."""
        pinned = self.store.meta().get(founder_key(self.store_id))
        founder = self.state.founder
        if not pinned or (founder is not None and founder.key == pinned):
            return None
        now = f"{founder.fingerprint} ({founder.officer})" if founder else "missing"
        return (
            f"The trust list of this store was replaced: its founder is now {now}, not "
            f"{devkeys.fingerprint(pinned)} as this laptop first saw; nothing from it "
            "applies until a supervisor checks (docs/devices.md, fieldlog dept pin)."
        )

    def _rewritten(self, kept: TrustState | None, records: list[TrustRecord]) -> str | None:
        """Why nothing from this store applies when the whole log, read again, does not start
        with what this laptop read before (the state it kept, or the previous version's
        pin)."""
        if kept is not None:
            same = trustlog.continues(kept, records)
        else:
            seen = _seen(self.store.meta().get(seen_key(self.store_id)))
            same = seen is None or trustlog.prefix_digest(records, seen[0]) == seen[1]
        if same:
            return None
        return (
            "The trust list of this store was rewritten (entries this laptop read "
            "before are gone or changed); nothing from it applies until a supervisor "
            "checks (docs/devices.md, fieldlog dept pin)."
        )

    def _register(self) -> None:
        """Add this device's ``register`` entry; a device that finds the trust log empty
        founds it: its self-``trust`` as supervisor and, on a store that already holds
        changes (an upgrading department), the ``legacy`` entry follow."""
        key = self.key
        empty = self.state.founder is None
        head = self.remote.head() if empty else 0
        self._add("register", key.device, {"key": key.public, "officer": self.store.officer()})
        if not empty:
            return
        self._read()  # what was added since: this entry, or another laptop's first
        founder = self.state.founder
        if founder is None or founder.key != key.public or founder.device != key.device:
            return  # another laptop founded it a moment before
        self.founded = True
        self._add("trust", key.device, {"key": key.public, "role": "supervisor"})
        if head > 0:
            count = head
            check = getattr(self.remote, "check_seq", None)
            if check is not None:
                count = check(head).below
            self._add("legacy", "", {"upto": head, "count": count})

    def _add(self, kind: str, subject: str, fields: dict[str, object]) -> int:
        key = self.key
        data = {
            **fields,
            "kind": kind,
            "store": self.store_id,
            "device": subject,
            "by": key.device,
            "by_key": key.public,
            "at": dates.stamp_now(),
        }
        record = devkeys.record_json(data)
        sig = key.sign(devkeys.trust_text(record))
        return self.remote.add_trust(kind, subject, record, sig, key.device)

    def _pin(self) -> None:
        """Keep the founder's key (first sync) and the trust state read (every sync that
        read something new: the next one starts from it)."""
        self._keep(founder_first=True)

    def _keep(self, *, founder_first: bool) -> None:
        founder = self.state.founder
        meta = self.store.meta()
        want: dict[str, str | None] = {}
        if founder is not None and (not founder_first or not meta.get(founder_key(self.store_id))):
            want[founder_key(self.store_id)] = founder.key
        if self.full_read or self._kept_digest != self.state.digest:
            want[state_key(self.store_id)] = trustlog.dumps(self.state)
        if meta.get(seen_key(self.store_id)) is not None:
            want[seen_key(self.store_id)] = None  # the previous version's pin: checked, replaced
        if meta.get(recheck_key(self.store_id)) is not None:
            want[recheck_key(self.store_id)] = None  # read whole and found right (or pinned)
        want = {k: v for k, v in want.items() if meta.get(k) != v}
        if not want:
            return
        with self.store.write() as tx:
            for k, v in want.items():
                if v is None:
                    tx.delete_meta(k)
                else:
                    tx.set_meta(k, v)
        self._kept_digest = self.state.digest

    def _check_legacy(self, notices: list[str]) -> None:
        """The legacy entry covers the changes numbered up to ``upto``; rows slipped in
        under it since (more rows there than when it was made) void it."""
        s = self.state
        if not s.legacy_upto or s.legacy_count is None:
            return
        check = getattr(self.remote, "check_seq", None)
        if check is None:
            return
        below = check(s.legacy_upto).below
        if below > s.legacy_count:
            self.legacy_ok = False
            notices.append(
                f"{below - s.legacy_count} unsigned change(s) were added to this store's "
                f"history from before signatures (numbered up to {s.legacy_upto}) after it "
                "was closed: unsigned changes from it are quarantined (docs/devices.md)."
            )

    def sign(self, change: OutChange) -> str:
        """The signature of a change this device pushes."""
        key = self.key
        return key.sign(
            devkeys.change_text(
                self.store_id,
                key.device,
                change.origin_seq,
                change.tbl,
                change.row_id,
                change.hlc,
                change.body,
            )
        )

    def sign_head(self, seq: int, hash_: str) -> str:
        """The signature of this device's audit head."""
        key = self.key
        return key.sign(devkeys.head_text(self.store_id, key.device, seq, hash_))

    def verdict(self, change: RemoteChange) -> str | None:
        """None when ``change`` may apply; else why it is quarantined (one line)."""
        if self.problem is not None:
            return "the store's trust list was replaced or rewritten (see fieldlog sync)"
        if not change.sig:
            if self.legacy_ok and 0 < change.seq <= self.state.legacy_upto:
                return None  # from before signatures, vouched for by the founder
            return "not signed (an older fieldlog, or written straight into the store)"
        text = devkeys.remote_change_text(self.store_id, change)
        candidates = self.state.of(change.origin)
        if not candidates:
            return (
                f"device {change.origin} is not registered with this store (forged, or from "
                "a laptop that has not synced with this version)"
            )
        dev = next((d for d in candidates if devkeys.verify(d.key, text, change.sig)), None)
        if dev is None:
            return "signature does not match (forged or altered in the store)"
        if dev.revoked and not change.seq <= dev.revoked_upto:
            return f"device {dev.device} ({dev.officer}) was revoked by {dev.revoked_by}"
        if not dev.trusted:
            return (
                f"device {dev.device} ({dev.officer}) is not enrolled: a supervisor runs "
                f"fieldlog dept trust {dev.device}"
            )
        if dev.pushed_by is not None and change.pushed_by != dev.pushed_by:
            return (
                f"pushed by database role {change.pushed_by or '(unknown)'} but device "
                f"{dev.device} enrolled from role {dev.pushed_by}"
            )
        self._who[(change.origin, change.origin_seq)] = dev.officer
        return None

    def head_ok(self, head: Head) -> bool:
        """Whether a head the store holds was signed by its device."""
        text = devkeys.head_text(self.store_id, head.origin, head.seq, head.hash)
        key = self.key
        if head.origin == key.device:
            return devkeys.verify(key.public, text, head.sig)
        return any(devkeys.verify(d.key, text, head.sig) for d in self.state.of(head.origin))

    def who(self, change: RemoteChange) -> str:
        """The enrolled officer of the change's device (for the audit entry of an applied
        change); the body's ``officer`` when the change applied without a device (legacy)."""
        found = self._who.get((change.origin, change.origin_seq))
        if found is not None:
            return found
        officer = (change.body or {}).get("officer")
        return str(officer) if officer else change.origin

    # ------------------------------------------------------------------ dept commands
    def devices(self) -> list[Device]:
        return list(self.state.devices)

    def resolve(self, text: str) -> Device:
        """The registered device a ``dept`` argument names: a device id, or a unique prefix
        (at least 6 characters) of a device id or of a key's fingerprint."""
        given = text.strip().lower()
        if len(given) < MIN_PREFIX:
            raise TrustError(
                f"'{text}' is too short to name a device: give at least {MIN_PREFIX} "
                "characters of its id (fieldlog dept devices lists them)."
            )
        exact = [d for d in self.state.devices if d.device == given]
        found = exact or [
            d
            for d in self.state.devices
            if d.device.startswith(given) or d.fingerprint.startswith(given)
        ]
        if not found:
            raise NotFoundError(
                f"No device '{text}' is registered with this store: its laptop syncs once "
                "first (fieldlog dept devices lists the registered ones)."
            )
        if len(found) > 1:
            names = ", ".join(f"{d.device} key {d.fingerprint}" for d in found)
            raise TrustError(
                f"'{text}' names {len(found)} registered keys ({names}): give the fingerprint "
                "the officer reads from  fieldlog dept key"
            )
        return found[0]

    def _supervisor(self, doing: str) -> Device:
        if self.problem is not None:
            raise TrustError(self.problem)
        me = self.me()
        if me is None or not me.supervisor:
            raise TrustError(
                f"Only a trusted supervisor's laptop can {doing}: this device "
                f"({self.key.device}) is {me.status if me else 'not registered'}"
                f"{'' if me is None or me.role != 'officer' else ' as an officer'}."
            )
        return me

    def trust(self, text: str, role: str = "officer") -> Device:
        """Enroll a registered device (``dept trust``); returns it as it now stands."""
        if role not in trustlog.ROLES:
            raise TrustError(f"'{role}' is not a role: officer or supervisor.")
        self._supervisor("trust a device")
        target = self.resolve(text)
        if target.revoked:
            raise TrustError(
                f"Device {target.device} was revoked: a revoked key is never trusted again; "
                "its laptop gets a new id by syncing a fresh log."
            )
        if target.trusted and target.role == role:
            return target  # nothing to add: trusted so already
        self._add("trust", target.device, {"key": target.key, "role": role})
        self._read()
        return self.state.find(target.device, target.key) or target

    def revoke(self, text: str) -> Device:
        """Revoke a registered device (``dept revoke``): its later changes never apply."""
        me = self._supervisor("revoke a device")
        target = self.resolve(text)
        if target.revoked:
            raise TrustError(f"Device {target.device} is revoked already.")
        if target is me:
            raise TrustError("A laptop cannot revoke itself: another supervisor does it.")
        self._add("revoke", target.device, {"key": target.key, "upto": self.remote.head()})
        self._read()
        return self.state.find(target.device, target.key) or target

    def pin(self, fingerprint: str) -> Device:
        """Pin the store's founder after checking its fingerprint out of band; also accepts
        the trust log as it now stands (after a supervisor checked a replaced one)."""
        founder = self.state.founder
        given = fingerprint.strip().lower()
        if founder is None:
            raise NotFoundError("This store has no trust list yet: sync once first.")
        if len(given) < MIN_PREFIX or not founder.fingerprint.startswith(given):
            raise TrustError(
                f"The store's founder has key {founder.fingerprint} ({founder.officer}), not "
                f"{fingerprint}: do not sync with it until a supervisor checks."
            )
        self._keep(founder_first=False)
        self.problem = None
        return founder


def _seen(value: str | None) -> tuple[int, str] | None:
    if not value:
        return None
    try:
        data = json.loads(value)
        return int(data["n"]), str(data["digest"])
    except (ValueError, KeyError, TypeError):
        return None

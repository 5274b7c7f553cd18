"""Problems (``store.problems``): SARA problem-solving projects (docs/problems.md).

A problem has its own fields (``problems``), links to the contacts, concerns, referrals and
partners worked on it (``problem_links``: one row per link, one of four columns set) and an
activity log (``problem_entries``: one row per dated entry). Links and entries are rows of
their own, so two officers linking records or logging work on one problem offline both keep
theirs when they sync. Two laptops may link the same record to a problem before they meet:
reads show a record once however many live rows link it, and unlinking removes them all.

A problem is named by an id prefix (like every record) or by its title: the exact title in
any case, or a part of it that only one live problem's title holds.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fieldlog import dates, ids, models, records
from fieldlog.db.repos.base import Row, Rows, when
from fieldlog.db.repos.problem_targets import Targets
from fieldlog.db.repos.problem_timeline import timeline
from fieldlog.errors import AmbiguousIdError, NotFoundError, ValidationError

if TYPE_CHECKING:
    from fieldlog.db.store import Store

TABLE = "problems"
LINKS = "problem_links"
ENTRIES = "problem_entries"
PHASES = models.PROBLEM_PHASES
LINK_COLUMNS = models.PROBLEM_LINK_COLUMNS  # linked table -> its column in problem_links
# The tables a link may name, in the order an id prefix is looked up.
LINKABLE = tuple(LINK_COLUMNS)
_TIMES = ("started_at", "response_started_at", "closed_at")
_RESPONSE_ON = frozenset({"response", "assessment", "closed"})  # the response has started


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class Problems:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.targets = Targets(store)

    # ------------------------------------------------------------------ names and values
    def values(self, values: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
        """A problem as typed, cleaned (times as typed become stored UTC text)."""
        vals = dict(values)
        for name in _TIMES:
            if vals.get(name) is not None:
                vals[name] = when(vals[name], name.replace("_", " "))
        return records.clean(TABLE, vals, partial=partial)

    def resolve(self, ref: str) -> str:
        """A live problem's id from an id prefix, its title, or a part of only one title."""
        text = (ref or "").strip()
        if not text:
            raise ValidationError("problem", "Name the problem: its id or its title.")
        prefix = ids.normalize_prefix(text)
        if len(prefix) >= ids.MIN_PREFIX and ids.is_hex(prefix):
            try:
                return self.store.records.resolve(TABLE, text)
            except NotFoundError:
                pass  # a title may look like hex ("facade"): try it as one
        exact = self.store.query(
            "SELECT id FROM problems WHERE deleted = 0 AND title = ? COLLATE NOCASE "
            "ORDER BY id LIMIT 2",
            [text],
        )
        if len(exact) == 1:
            return str(exact[0]["id"])
        part = exact or self.store.query(
            "SELECT id, title FROM problems WHERE deleted = 0 AND title LIKE ? ESCAPE '\\' "
            "ORDER BY id LIMIT 11",
            [_like(text)],
        )
        if not part:
            raise NotFoundError(
                f"No problem has the id or title '{ref}': check it (fieldlog problem list "
                "shows them)."
            )
        if len(part) > 1:
            matches = [str(p["id"]) for p in part]
            shown = ", ".join(self.store.records.short_id(TABLE, m) for m in matches[:10])
            raise AmbiguousIdError(
                f"'{ref}' matches {len(matches)}{'+' if len(matches) > 10 else ''} problems "
                f"({shown}): give more of the title, or the id.",
                matches,
            )
        return str(part[0]["id"])

    def target(self, ref: str) -> tuple[str, str]:
        """(table, id) of the record ``ref`` names (:meth:`Targets.target`)."""
        return self.targets.target(ref)

    # ------------------------------------------------------------------ writes
    def add(
        self,
        title: str,
        *,
        partners: Sequence[str] = (),
        links: Sequence[str] = (),
        **values: Any,
    ) -> str:
        """A new problem in the scanning phase (or ``phase``), started now unless
        ``started_at``; ``partners`` by name or id, ``links`` by id prefix, linked with it in
        the same transaction."""
        clean = self.values({"title": title, **values}, partial=False)
        clean.setdefault("started_at", None)
        if clean["started_at"] is None:
            clean["started_at"] = dates.to_storage(dates.now())
        if clean["phase"] in _RESPONSE_ON and not clean.get("response_started_at"):
            clean["response_started_at"] = clean["started_at"]
        if clean["phase"] == "closed" and not clean.get("closed_at"):
            clean["closed_at"] = dates.to_storage(dates.now())
        targets = [("organizations", self.store.orgs.resolve(p)) for p in partners]
        targets += [self.targets.target(ref) for ref in links]
        with self.store.write() as tx:
            pid = tx.insert(TABLE, clean)
            for table, rid in dict.fromkeys(targets):
                tx.insert(LINKS, {"problem_id": pid, LINK_COLUMNS[table]: rid})
        return pid

    def update(self, ref: str, **values: Any) -> Row:
        """An edit of the problem's own fields (a phase through :meth:`phase`)."""
        pid = self.resolve(ref)
        if "phase" in values:
            raise ValidationError("phase", "Change a phase with 'fieldlog problem phase'.")
        clean = self.values(values, partial=True)
        with self.store.write() as tx:
            tx.update(TABLE, pid, clean)
        return self.get(pid)

    def link(self, ref: str, targets: Iterable[str]) -> builtins.list[tuple[str, str]]:
        """Link records (id prefixes; partners also by name) to a problem; returns the
        (table, id) pairs newly linked (one already linked is left as it is)."""
        pid = self.resolve(ref)
        wanted = list(dict.fromkeys(self.targets.target(t) for t in targets))
        have = self._linked_pairs(pid)
        new = [t for t in wanted if t not in have]
        if new:
            with self.store.write() as tx:
                for table, rid in new:
                    tx.insert(LINKS, {"problem_id": pid, LINK_COLUMNS[table]: rid})
        return new

    def link_record(self, ref: str, table: str, rid: str) -> bool:
        """Link one record by its full id (the TUI's "link to a problem"); False when it
        was linked already."""
        pid = self.resolve(ref)
        if table not in LINK_COLUMNS:
            raise ValueError(f"a problem does not link {table}")
        if (table, rid) in self._linked_pairs(pid):
            return False
        with self.store.write() as tx:
            tx.insert(LINKS, {"problem_id": pid, LINK_COLUMNS[table]: rid})
        return True

    def unlink(self, ref: str, targets: Iterable[str]) -> builtins.list[tuple[str, str]]:
        """Remove the links from a problem to records (id prefixes); returns the pairs
        unlinked. A record the problem does not link is one line."""
        pid = self.resolve(ref)
        pairs = list(dict.fromkeys(self.targets.target_any(t) for t in targets))
        rows = self._link_rows(pid)
        by_pair: dict[tuple[str, str], builtins.list[str]] = {}
        for r in rows:
            by_pair.setdefault((r["tbl"], r["target"]), []).append(r["id"])
        for table, rid in pairs:
            if (table, rid) not in by_pair:
                short = self.store.records.short_id(table, rid)
                raise NotFoundError(
                    f"The problem does not link the {records.NOUN[table]} {short}: "
                    "fieldlog problem show lists what it links."
                )
        with self.store.write() as tx:
            for pair in pairs:
                for link_id in by_pair[pair]:
                    tx.tombstone(LINKS, link_id)
        return pairs

    def phase(self, ref: str, phase: str, *, note: str | None = None) -> Row:
        """Move a problem to ``phase``: its response is stamped started on reaching response
        (or a later phase) and its closing time on closed (a reopened problem loses it); the
        log gets a ``phase`` entry ("analysis -> response: NOTE")."""
        pid = self.resolve(ref)
        new = models.choice("phase", phase, PHASES)
        note_text = models.text("note", note, limit=models.MAX_TEXT) if note else None
        cur = self.store.query(
            "SELECT phase, response_started_at, closed_at FROM problems WHERE id = ?", [pid]
        )[0]
        if new == cur["phase"] and not note_text:
            raise ValidationError(
                "phase", f"The problem is in {new} already: give another phase, or --note."
            )
        now = dates.to_storage(dates.now())
        changes: dict[str, Any] = {"phase": new}
        if new in _RESPONSE_ON and not cur["response_started_at"]:
            changes["response_started_at"] = now
        if new == "closed" and not cur["closed_at"]:
            changes["closed_at"] = now
        if new != "closed" and cur["closed_at"]:
            changes["closed_at"] = None
        text = f"{cur['phase']} -> {new}" if new != cur["phase"] else new
        if note_text:
            text += f": {note_text}"
        with self.store.write() as tx:
            tx.update(TABLE, pid, changes)
            tx.insert(ENTRIES, {"problem_id": pid, "occurred_at": now, "kind": "phase",
                                "text": text})  # fmt: skip
        return self.get(pid)

    def log(self, ref: str, text: str, *, at: Any = None, kind: str = "note") -> str:
        """A dated entry in the problem's activity log (now unless ``at``); its id."""
        pid = self.resolve(ref)
        stamp = when(at, "log date") if at is not None else dates.to_storage(dates.now())
        clean = records.clean(
            ENTRIES, {"problem_id": pid, "occurred_at": stamp, "kind": kind, "text": text}
        )
        with self.store.write() as tx:
            return tx.insert(ENTRIES, clean)

    def plan(self, ref: str, text: str) -> Row:
        """The problem's action plan, replaced; the log keeps each plan as a ``plan`` entry."""
        pid = self.resolve(ref)
        clean = records.clean(TABLE, {"plan": text}, partial=True)
        if not clean.get("plan"):
            raise ValidationError("plan", "The plan is empty: write what will be done.")
        entry = records.clean(ENTRIES, {"problem_id": pid, "kind": "plan", "text": text,
                                        "occurred_at": dates.to_storage(dates.now())})  # fmt: skip
        with self.store.write() as tx:
            tx.update(TABLE, pid, clean)
            tx.insert(ENTRIES, entry)
        return self.get(pid)

    def delete(self, ref: str) -> str:
        """Tombstone a problem with its links and log entries."""
        pid = self.resolve(ref)
        with self.store.write() as tx:
            for table in records.children(TABLE):
                for child in self.store.query(
                    f"SELECT id FROM {table} WHERE problem_id = ? AND deleted = 0", [pid]
                ):
                    tx.tombstone(table, child["id"])
            tx.tombstone(TABLE, pid)
        return pid

    # ------------------------------------------------------------------ reads
    def _link_rows(self, pid: str) -> Rows:
        """The problem's live link rows with the table and id each names."""
        cases = " ".join(f"WHEN {c} IS NOT NULL THEN '{t}'" for t, c in LINK_COLUMNS.items())
        target = f"coalesce({', '.join(LINK_COLUMNS.values())})"
        return self.store.query(
            f"SELECT id, CASE {cases} END AS tbl, {target} AS target, officer, created_at "
            "FROM problem_links WHERE problem_id = ? AND deleted = 0 ORDER BY id",
            [pid],
        )

    def _linked_pairs(self, pid: str) -> set[tuple[str, str]]:
        return {(r["tbl"], r["target"]) for r in self._link_rows(pid) if r["tbl"]}

    def linked(self, pid: str) -> dict[str, Rows]:
        """The live records a problem links, per table (each once, oldest link first)."""
        out: dict[str, Rows] = {t: [] for t in LINKABLE}
        order: dict[tuple[str, str], int] = {}
        for i, r in enumerate(self._link_rows(pid)):
            if r["tbl"]:
                order.setdefault((r["tbl"], r["target"]), i)
        rec = self.store.records
        for table in LINKABLE:
            rids = [rid for (t, rid) in order if t == table]
            if not rids:
                continue
            marks = ", ".join("?" * len(rids))
            rows = self.store.query(
                f"SELECT * FROM {table} WHERE id IN ({marks}) AND deleted = 0", rids
            )
            rows.sort(key=lambda r, t=table: order[(t, r["id"])])  # type: ignore[misc]
            out[table] = rec.with_short_ids(table, rows)
        return out

    def entries(self, pid: str) -> Rows:
        """The problem's live log entries, oldest first."""
        return self.store.records.with_short_ids(
            ENTRIES,
            self.store.query(
                "SELECT * FROM problem_entries WHERE problem_id = ? AND deleted = 0 "
                "ORDER BY occurred_at, id",
                [pid],
            ),
        )

    def get(self, ref: str) -> Row:
        """A live problem with what it links (``contacts``, ``concerns``, ``referrals``,
        ``partners``), its log (``entries``) and its ``timeline``."""
        pid = self.resolve(ref)
        row = self.store.records.with_short_ids(
            TABLE, self.store.query("SELECT * FROM problems WHERE id = ?", [pid])
        )[0]
        linked = self.linked(pid)
        row["contacts"] = linked["contacts"]
        row["concerns"] = self._with_contacts(linked["concerns"])
        row["referrals"] = self._with_contacts(linked["referrals"])
        row["partners"] = linked["organizations"]
        row["entries"] = self.entries(pid)
        row["timeline"] = timeline(row)
        return row

    def _with_contacts(self, rows: Rows) -> Rows:
        """Concerns or referrals with their contact's time and neighborhood."""
        cids = list({r["contact_id"] for r in rows})
        if not cids:
            return rows
        marks = ", ".join("?" * len(cids))
        info = {
            c["id"]: c
            for c in self.store.query(
                "SELECT id, occurred_at, neighborhood, summary FROM contacts "
                f"WHERE id IN ({marks})",
                cids,
            )
        }
        for r in rows:
            c = info.get(r["contact_id"], {})
            r["contact_occurred_at"] = c.get("occurred_at")
            r["neighborhood"] = c.get("neighborhood")
            r["contact_summary"] = c.get("summary")
        return rows

    def _listing(
        self,
        *,
        phase: str | None = None,
        hood: str | None = None,
        coordinator: str | None = None,
        open_only: bool = False,
    ) -> tuple[str, builtins.list[Any]]:
        where, params = ["p.deleted = 0"], []
        if phase:
            word = models.norm_word(phase)
            if word == "open":
                where.append("p.phase != 'closed'")
            else:
                where.append("p.phase = ?")
                params.append(models.choice("phase", phase, PHASES))
        if open_only:
            where.append("p.phase != 'closed'")
        if hood:
            where.append("p.neighborhood = ? COLLATE NOCASE")
            params.append(hood.strip())
        if coordinator:
            where.append("p.coordinator = ? COLLATE NOCASE")
            params.append(coordinator.strip())
        counts = ", ".join(
            f"(SELECT count(DISTINCT l.{c}) FROM problem_links l JOIN {t} x ON x.id = l.{c} "
            f"AND x.deleted = 0 WHERE l.problem_id = p.id AND l.deleted = 0) AS {t}_linked"
            for t, c in LINK_COLUMNS.items()
        )
        order = " ".join(f"WHEN '{ph}' THEN {i}" for i, ph in enumerate(PHASES))
        sql = (
            f"SELECT p.*, {counts}, (SELECT max(e.occurred_at) FROM problem_entries e "
            "WHERE e.problem_id = p.id AND e.deleted = 0) AS last_entry_at "
            f"FROM problems p WHERE {' AND '.join(where)} "
            f"ORDER BY CASE p.phase {order} END, p.id DESC"
        )
        return sql, params

    def list(self, *, limit: int | None = None, **filters: Any) -> Rows:
        """Problems by phase (scanning first, closed last), newest first within a phase,
        with how many records of each kind they link (``contacts_linked``...) and their last
        log entry's time; filters ``phase`` (a phase or ``open``), ``hood``, ``coordinator``."""
        sql, params = self._listing(**filters)
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.store.records.with_short_ids(TABLE, self.store.query(sql, params))

    def count(self, **filters: Any) -> int:
        return self.store.records.count_of(*self._listing(**filters))

    def of_record(self, table: str, rid: str) -> Rows:
        """The live problems a record is linked to (a contact's detail shows them)."""
        col = LINK_COLUMNS[table]
        return self.store.records.with_short_ids(
            TABLE,
            self.store.query(
                "SELECT DISTINCT p.* FROM problem_links l JOIN problems p ON p.id = l.problem_id "
                f"WHERE l.{col} = ? AND l.deleted = 0 AND p.deleted = 0 ORDER BY p.id DESC",
                [rid],
            ),
        )

    def unlinked_open_concerns(self, since: str, *, hood: str | None = None) -> Rows:
        """Open concerns of contacts since ``since`` (stored time) that no live problem
        links, directly or through their contact (what ``problem suggest`` clusters)."""
        where = ["k.deleted = 0", "k.status != 'resolved'", "c.deleted = 0", "c.occurred_at >= ?"]
        params: builtins.list[Any] = [since]
        if hood:
            where.append("c.neighborhood = ? COLLATE NOCASE")
            params.append(hood.strip())
        linked = (
            "SELECT 1 FROM problem_links l JOIN problems p ON p.id = l.problem_id AND "
            "p.deleted = 0 WHERE l.deleted = 0 AND (l.concern_id = k.id OR l.contact_id = c.id)"
        )
        return self.store.records.with_short_ids(
            "concerns",
            self.store.query(
                "SELECT k.*, c.neighborhood, c.location, c.occurred_at AS contact_occurred_at, "
                "c.summary AS contact_summary FROM concerns k JOIN contacts c ON c.id = "
                f"k.contact_id WHERE {' AND '.join(where)} AND NOT EXISTS ({linked}) "
                "ORDER BY c.occurred_at, k.id",
                params,
            ),
        )

    def concerns_around(
        self, category: str | None, *, hood: str | None, location: str | None
    ) -> Rows:
        """Every live concern of ``category`` (any, without one) at contacts in the
        neighborhood ``hood`` (or, without one, at ``location``), with the contact's time:
        what an assessment counts. Nothing without a place."""
        if hood:
            place, value = "c.neighborhood = ? COLLATE NOCASE", hood.strip()
        elif location:
            place, value = "c.location = ? COLLATE NOCASE", location.strip()
        else:
            return []
        what, params = ("AND k.category = ? ", [category]) if category else ("", [])
        return self.store.query(
            "SELECT k.id, k.status, c.occurred_at FROM concerns k JOIN contacts c ON "
            f"c.id = k.contact_id WHERE k.deleted = 0 AND c.deleted = 0 {what}"
            f"AND {place} ORDER BY c.occurred_at",
            [*params, value],
        )

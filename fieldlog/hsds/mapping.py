"""fieldlog's partners as HSDS 3.0 rows, and HSDS organizations as partners: pure functions,
no I/O (docs/hsds.md has the table).

A partner is an HSDS ``organization`` with its ``services`` (one per fieldlog service), its
``phones``, one ``contact`` (the contact person), and, when it has an address, one physical
``location`` with its ``address`` and a ``service_at_location`` row per service. What HSDS has
no column for (the partner's kind, neighborhood, status and last verification, and a phone,
e-mail or address HSDS cannot hold exactly as typed) travels as ``attributes`` of the
organization, terms of fieldlog's own taxonomy, so an export imports back exactly.

Ids: a partner's HSDS id is its fieldlog id (a UUID) written with dashes; every other row's id
is a UUID v5 of the partner's id and what the row is (``phone:0``, ``service:food``), so the
same log exports the same files twice.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fieldlog import models

# The namespace of every id fieldlog derives (uuid5 of this and a row's name).
NAMESPACE = uuid.UUID("6f0c4a52-7d1e-5b8a-9c3f-2e4d6a8b0c1e")
TAXONOMY = "fieldlog"
TAXONOMY_DESCRIPTION = (
    "The vocabulary of fieldlog, a field log for police community liaison officers: its "
    "referral services, and the partner fields HSDS has no column for."
)
COUNTRY = "US"  # an address's country when the text names none (ISO 3166-1 alpha-2)

# fieldlog's own fields carried as organization attributes: term code -> (name, description).
FIELD_TERMS: dict[str, tuple[str, str]] = {
    "kind": ("Partner kind", "fieldlog's kind of partner: " + ", ".join(models.ORG_KINDS) + "."),
    "neighborhood": ("Neighborhood", "The neighborhood fieldlog files the partner under."),
    "status": ("Partner status", "fieldlog's partner status: active, inactive or defunct."),
    "last_verified": ("Last verified", "The day the partner's details were last verified."),
    "phone": ("Phone as typed", "The partner's phone numbers exactly as fieldlog holds them."),
    "email": ("E-mail as typed", "The partner's e-mail exactly as fieldlog holds it."),
    "address": ("Address as typed", "The partner's address exactly as fieldlog holds it."),
}
SERVICE_LABEL = {s: s.replace("_", " ").capitalize() for s in models.REFERRAL_SERVICES}
# HSDS 3.0 phone types (an open list; these are the ones its documentation names).
PHONE_TYPES = ("text", "voice", "fax", "cell", "video", "pager", "textphone")
NOTES_LIMIT = models.MAX_TEXT
SERVICES_MARK = "HSDS services: "  # the notes paragraph keeping a directory's own terms

# Words of an HSDS service's name or taxonomy terms -> fieldlog's service vocabulary.
SERVICE_WORDS: dict[str, tuple[str, ...]] = {
    "housing": (
        "housing", "shelter", "shelters", "homeless", "homelessness", "rent", "rental",
        "eviction", "tenant", "tenants", "transitional",
    ),
    "food": (
        "food", "foods", "meal", "meals", "pantry", "pantries", "nutrition", "snap", "wic",
        "groceries", "grocery", "soup kitchen",
    ),
    "mental_health": (
        "mental health", "counseling", "counselling", "crisis", "psychiatric", "behavioral",
        "behavioural", "suicide", "therapy", "psychological",
    ),
    "substance_use": (
        "substance", "addiction", "alcohol", "alcoholism", "drug", "drugs", "detox",
        "recovery", "opioid", "opioids", "sobriety",
    ),
    "youth": (
        "youth", "teen", "teens", "after school", "afterschool", "mentoring", "mentor",
        "children", "kids", "juvenile", "adolescent",
    ),
    "legal": (
        "legal", "lawyer", "lawyers", "attorney", "attorneys", "court", "immigration", "law",
    ),
    "victim_services": (
        "victim", "victims", "domestic violence", "abuse", "assault", "trafficking",
        "survivor", "survivors",
    ),
    "medical": (
        "medical", "health care", "healthcare", "clinic", "clinics", "dental", "hospital",
        "primary care", "prescription", "prescriptions", "medicine",
    ),
    "employment": (
        "employment", "job", "jobs", "career", "careers", "workforce", "vocational",
    ),
}  # fmt: skip
_SERVICE_RES = {
    s: re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b")
    for s, words in SERVICE_WORDS.items()
}


def hsds_id(fieldlog_id: str) -> str:
    """A fieldlog id (32 hex digits) as the canonical UUID text HSDS uses."""
    return str(uuid.UUID(hex=fieldlog_id))


def fieldlog_id(hsds: str) -> str:
    """An HSDS id (a UUID, checked by validation) as a fieldlog id."""
    return uuid.UUID(hsds.strip()).hex


def derived_id(*parts: str) -> str:
    """The id of a row fieldlog derives (``derived_id(org, "phone", "0")``): the same every
    export."""
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def taxonomy_id() -> str:
    return derived_id("taxonomy", TAXONOMY)


def term_id(code: str) -> str:
    return derived_id("term", TAXONOMY, code)


def service_code(service: str) -> str:
    return f"service:{service}"


# ---------------------------------------------------------------------- texts HSDS splits
@dataclass(frozen=True)
class Phone:
    number: str
    extension: str = ""
    type: str = ""


_PHONE = re.compile(
    r"^(?P<number>.*?\S)(?:\s*(?:ext\.?|x)\s*(?P<ext>\d{1,9}))?"
    r"(?:\s*\((?P<type>" + "|".join(PHONE_TYPES) + r")\))?$",
    re.IGNORECASE,
)


def split_phones(text: str | None) -> list[Phone]:
    """``555-0100; 555-0101 ext. 2 (fax)`` -> two phones (``;`` or ``,`` between them)."""
    out: list[Phone] = []
    for part in re.split(r"[;,]", text or ""):
        part = part.strip()
        if not part:
            continue
        m = _PHONE.match(part)
        if m is None:  # pragma: no cover - the pattern matches any text with a non-space
            out.append(Phone(part))
            continue
        out.append(Phone(m["number"], m["ext"] or "", (m["type"] or "").lower()))
    return out


def phone_text(phone: Phone) -> str:
    text = phone.number.strip()
    ext = _whole(phone.extension)
    if ext:
        text += f" ext. {ext}"
    kind = (phone.type or "").strip().lower()
    if kind and kind != "voice":
        text += f" ({kind})"
    return text


def join_phones(phones: Iterable[Phone]) -> str:
    return "; ".join(dict.fromkeys(t for t in (phone_text(p) for p in phones) if t))


def _whole(value: str | None) -> str:
    """``12``, ``12.0`` -> ``12`` (HSDS extensions are numbers)."""
    v = (value or "").strip()
    if re.fullmatch(r"\d+\.0*", v):
        v = v.split(".")[0]
    return v


@dataclass(frozen=True)
class Address:
    address_1: str
    city: str
    state_province: str
    postal_code: str
    address_2: str = ""
    country: str = COUNTRY


_STATE_ZIP = re.compile(
    r"^(?P<state>[A-Za-z][A-Za-z .]*?)\s+"
    r"(?P<zip>\d{5}(?:-\d{4})?|[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d)$"  # US ZIP, Canadian code
)
_COUNTRIES = {"us": "US", "usa": "US", "u.s.": "US", "u.s.a.": "US", "united states": "US",
              "united states of america": "US", "canada": "CA", "ca": "CA"}  # fmt: skip


def split_address(text: str | None) -> Address | None:
    """``12 Main St, Apt 4, Springfield, IL 62701`` -> its parts; None when it is not in the
    form street[, line 2], city, state postal code[, country]."""
    parts = [p.strip() for p in (text or "").split(",")]
    if any(not p for p in parts):
        return None
    country = COUNTRY
    if len(parts) >= 4 and parts[-1].lower() in _COUNTRIES:
        country = _COUNTRIES[parts.pop().lower()]
    if not 3 <= len(parts) <= 4:
        return None
    m = _STATE_ZIP.match(parts[-1])
    if m is None:
        return None
    line2 = parts[1] if len(parts) == 4 else ""
    return Address(parts[0], parts[-2], m["state"].strip(), m["zip"], line2, country)


def address_text(a: Mapping[str, Any]) -> str:
    """An HSDS address row as one line: ``street, line 2, city, ST 62701[, country]``."""

    def get(k: str) -> str:
        return str(a.get(k) or "").strip()

    tail = " ".join(p for p in (get("state_province"), get("postal_code")) if p)
    parts = [get("address_1"), get("address_2"), get("city"), tail]
    country = get("country")
    if country and country.upper() != COUNTRY:
        parts.append(country)
    return ", ".join(p for p in parts if p)


def split_emails(text: str | None) -> list[str]:
    return [e.strip() for e in re.split(r"[;,]", text or "") if e.strip()]


# ---------------------------------------------------------------------- export
@dataclass
class Rows:
    """The HSDS rows of a directory, table (resource name) -> rows (column -> text)."""

    tables: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)  # what HSDS could not take, said why

    def add(self, table: str, **values: Any) -> dict[str, str]:
        row = {k: "" if v is None else str(v) for k, v in values.items()}
        self.tables.setdefault(table, []).append(row)
        return row


def taxonomy_rows(rows: Rows) -> None:
    """fieldlog's taxonomy and its terms: the services, then the partner fields."""
    tax = taxonomy_id()
    rows.add("taxonomy", id=tax, name=TAXONOMY, description=TAXONOMY_DESCRIPTION)
    for s in models.REFERRAL_SERVICES:
        rows.add(
            "taxonomy_term", id=term_id(service_code(s)), code=service_code(s),
            name=SERVICE_LABEL[s], description=f"fieldlog's referral service '{s}'.",
            taxonomy=TAXONOMY, taxonomy_id=tax,
        )  # fmt: skip
    for code, (name, description) in FIELD_TERMS.items():
        rows.add(
            "taxonomy_term", id=term_id(code), code=code, name=name, description=description,
            taxonomy=TAXONOMY, taxonomy_id=tax,
        )  # fmt: skip


def partner_rows(
    rows: Rows, org: Mapping[str, Any], *, redact: bool = False, email_ok: Any = None
) -> None:
    """One partner (a stored ``organizations`` row, services decoded) as HSDS rows.
    ``redact``: the contact person and the notes are left out (docs/hsds.md).
    ``email_ok(text) -> bool``: whether HSDS takes an e-mail (frictionless' own check)."""
    oid = hsds_id(org["id"])
    name = org["name"]

    def attr(code: str, value: Any) -> None:
        rows.add(
            "attribute", id=derived_id(oid, "attribute", code), link_id=oid,
            taxonomy_term_id=term_id(code), link_type="", link_entity="organization",
            value=value,
        )  # fmt: skip

    notes = None if redact else org.get("notes")
    emails = split_emails(org.get("email"))
    good = [e for e in emails if email_ok is None or email_ok(e)]
    first = good[0] if good else ""
    rows.add(
        "organization",
        id=oid,
        name=name,
        description=notes or name,
        email=first,
    )
    status = org.get("status") or "active"
    verified = org.get("last_verified") or ""
    services = list(org.get("services") or [])
    for s in services:
        sid = derived_id(oid, "service", s)
        rows.add(
            "service", id=sid, organization_id=oid, name=SERVICE_LABEL.get(s, s),
            status=status, assured_date=verified,
        )  # fmt: skip
        rows.add(
            "attribute", id=derived_id(sid, "attribute", service_code(s)), link_id=sid,
            taxonomy_term_id=term_id(service_code(s)), link_type="", link_entity="service",
            value="",
        )  # fmt: skip
    address = org.get("address")
    if address:
        lid = derived_id(oid, "location", "0")
        rows.add("location", id=lid, location_type="physical", organization_id=oid, name=name)
        for s in services:
            sid = derived_id(oid, "service", s)
            rows.add(
                "service_at_location", id=derived_id(sid, "at", lid), service_id=sid,
                location_id=lid,
            )  # fmt: skip
        parts = split_address(address)
        if parts is not None:
            rows.add(
                "address", id=derived_id(lid, "address", "0"), location_id=lid,
                address_1=parts.address_1, address_2=parts.address_2, city=parts.city,
                state_province=parts.state_province, postal_code=parts.postal_code,
                country=parts.country, address_type="physical",
            )  # fmt: skip
        else:
            rows.left_out.append(
                f"{name}: the address '{address}' is not in the form 'street, city, ST "
                "postal code', so it has no HSDS address row (it travels as typed, as an "
                "attribute)"
            )
        if parts is None or address_text(parts.__dict__) != address:
            attr("address", address)
    contact = None if redact else org.get("contact_person")
    if contact:
        rows.add("contact", id=derived_id(oid, "contact", "0"), organization_id=oid,
                 name=contact)  # fmt: skip
    for i, e in enumerate(good[1:], start=1):
        rows.add("contact", id=derived_id(oid, "contact", str(i)), organization_id=oid,
                 email=e)  # fmt: skip
    for e in emails:
        if e not in good:
            rows.left_out.append(f"{name}: '{e}' is not an e-mail address HSDS takes")
    if emails and "; ".join(good) != org.get("email"):
        attr("email", org.get("email"))
    phones = split_phones(org.get("phone"))
    for i, p in enumerate(phones):
        rows.add(
            "phone", id=derived_id(oid, "phone", str(i)), organization_id=oid,
            number=p.number, extension=p.extension, type=p.type or "voice",
        )  # fmt: skip
    if phones and join_phones(phones) != org.get("phone"):
        attr("phone", org.get("phone"))
    attr("kind", org.get("kind") or "other")
    attr("status", status)
    if verified:
        attr("last_verified", verified)
    if org.get("neighborhood"):
        attr("neighborhood", org["neighborhood"])


# ---------------------------------------------------------------------- import
def services_of(texts: Iterable[str]) -> list[str]:
    """fieldlog's services named by an HSDS service's name and taxonomy terms (``other``
    when none is)."""
    text = " ".join(t.lower().replace("-", " ").replace("_", " ") for t in texts if t)
    found = [s for s, rx in _SERVICE_RES.items() if rx.search(text)]
    return found or ["other"]


@dataclass
class Org:
    """One HSDS organization with what points at it, as read from a dataset."""

    row: dict[str, str]
    where: str  # "organizations.csv row 3"
    services: list[dict[str, str]] = field(default_factory=list)
    phones: list[dict[str, str]] = field(default_factory=list)
    contacts: list[dict[str, str]] = field(default_factory=list)
    addresses: list[dict[str, str]] = field(default_factory=list)
    # fieldlog attributes: code -> value; a directory's own terms: per service id.
    fields: dict[str, str] = field(default_factory=dict)
    terms: dict[str, list[str]] = field(default_factory=dict)  # service id -> term texts
    exact: dict[str, str] = field(default_factory=dict)  # service id -> fieldlog service


def partner_values(org: Org) -> dict[str, Any]:
    """The partner an HSDS organization is (values for ``records.clean``)."""
    f = org.fields
    row = org.row
    name = (row.get("name") or "").strip()
    services: list[str] = []
    kept: list[str] = []
    for s in org.services:
        sid = s.get("id", "")
        if sid in org.exact:
            services.append(org.exact[sid])
            continue
        terms = org.terms.get(sid, [])
        services += services_of([s.get("name", ""), *terms])
        label = (s.get("name") or "").strip()
        if label and terms:
            kept.append(f"{label} [{'; '.join(terms)}]")
        else:
            kept.append(label or "; ".join(terms))
    real = [s for s in org.services if s.get("id")]  # not the organization's own terms
    statuses = {(s.get("status") or "").strip().lower() for s in real}
    if "status" in f:
        status = f["status"]
    elif not statuses or "active" in statuses:
        status = "active"
    elif statuses <= {"defunct"}:
        status = "defunct"
    else:
        status = "inactive"  # inactive, temporarily closed
    verified = f.get("last_verified") or max(
        (s.get("assured_date") or "" for s in real), default=""
    )
    phones = join_phones(
        Phone(p.get("number", ""), _whole(p.get("extension")), p.get("type", ""))
        for p in org.phones
        if (p.get("number") or "").strip()
    )
    emails = [row.get("email", "")]
    emails += [c.get("email", "") for c in org.contacts]
    emails += [s.get("email", "") for s in real]
    email = "; ".join(dict.fromkeys(e.strip() for e in emails if e and e.strip()))
    person = next((c["name"].strip() for c in org.contacts if (c.get("name") or "").strip()), "")
    physical = sorted(
        org.addresses, key=lambda a: (a.get("address_type") != "physical", a.get("id", ""))
    )
    address = address_text(physical[0]) if physical else ""
    description = (row.get("description") or "").strip()
    notes = "" if description == name else description
    if kept:
        para = SERVICES_MARK + "; ".join(dict.fromkeys(k for k in kept if k))
        room = NOTES_LIMIT - len(para) - 2
        if room < 0:
            para, notes = para[: NOTES_LIMIT - 1] + "…", ""
        elif len(notes) > room:
            notes = notes[: max(room - 1, 0)] + "…" if room > 1 else ""
        notes = f"{notes}\n\n{para}" if notes else para
    elif len(notes) > NOTES_LIMIT:
        notes = notes[: NOTES_LIMIT - 1] + "…"
    values: dict[str, Any] = {
        "name": name,
        "kind": f.get("kind") or None,  # the default for a new partner; kept on an update
        "contact_person": person or None,
        "phone": f.get("phone") or _cap(phones),
        "email": f.get("email") or _cap(email),
        "address": f.get("address") or address or None,
        "neighborhood": f.get("neighborhood") or None,
        "services": list(dict.fromkeys(services)),
        "status": status,
        "last_verified": verified or None,
        "notes": notes or None,
    }
    return values


def _cap(text: str, limit: int = models.MAX_SHORT) -> str | None:
    """Several phones or e-mails joined, as many whole ones as fit in a one-line field."""
    if not text:
        return None
    if len(text) <= limit:
        return text
    out = ""
    for part in text.split("; "):
        nxt = f"{out}; {part}" if out else part
        if len(nxt) > limit:
            break
        out = nxt
    return out or text[:limit]


def attribute_fields() -> Sequence[str]:
    """The codes of fieldlog's partner-field terms (read back from attributes)."""
    return tuple(FIELD_TERMS)

"""Reading an HSDS 3.0 tabular dataset (a folder of CSV files, after
:func:`fieldlog.hsds.validate.check_folder`) into its organizations, each with what points at
it: services (and through them phones, contacts, locations), phones, contacts, locations and
their addresses, and the taxonomy terms attached by ``attributes``.

A row that failed validation is left out (with ``--skip-bad``; otherwise nothing is written
at all), and so is whatever hangs from a left-out row.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from fieldlog.errors import FieldlogError
from fieldlog.hsds import mapping, spec

# The tables an import reads (the others of HSDS are checked when present, not used).
READ = (
    "organization", "service", "location", "service_at_location", "address", "contact",
    "phone", "taxonomy", "taxonomy_term", "attribute",
)  # fmt: skip
SAVE_AS = "save it as UTF-8 CSV"


def hsds_files(folder: Path) -> dict[str, str]:
    """The HSDS tables in a folder: resource -> file name (``organizations.csv`` ...)."""
    found = {}
    for name in spec.resource_names():
        path = spec.path_of(name)
        if (folder / path).is_file():
            found[name] = path
    return found


def _rows(folder: Path, file: str) -> Iterator[tuple[int, dict[str, str]]]:
    """``(row number, cells by column)`` of a CSV file, the header being row 1."""
    path = folder / file
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            for n, cells in enumerate(reader, start=2):
                if not any(c.strip() for c in cells):
                    continue
                yield n, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header)}
    except UnicodeDecodeError:
        raise FieldlogError(f"{file} is not UTF-8 text: {SAVE_AS}.") from None
    except csv.Error as exc:
        raise FieldlogError(f"{file} cannot be read as CSV ({exc}): {SAVE_AS}.") from None


def organizations(
    folder: Path, files: dict[str, str], bad: set[tuple[str, int]]
) -> list[mapping.Org]:
    """The dataset's organizations with what points at them; ``bad``: (file, row) pairs
    validation refused, left out."""

    def table(resource: str) -> list[tuple[int, dict[str, str]]]:
        file = files.get(resource)
        if file is None:
            return []
        return [(n, r) for n, r in _rows(folder, file) if (file, n) not in bad]

    def key(value: str | None) -> str:
        return (value or "").strip().lower()

    orgs: dict[str, mapping.Org] = {}
    org_file = files["organization"]
    seen: dict[str, int] = {}
    for n, row in table("organization"):
        k = key(row.get("id"))
        if k in seen:  # one id in two cases: frictionless tells them apart, a UUID does not
            raise FieldlogError(
                f"{org_file} row {n}: its id {row.get('id')} is row {seen[k]}'s id (HSDS ids "
                "are UUIDs, the same in any case): give one of them its own id."
            )
        seen[k] = n
        orgs[k] = mapping.Org(row, f"{org_file} row {n}")
    service_org: dict[str, str] = {}
    services: dict[str, dict[str, str]] = {}
    for _, row in table("service"):
        org = orgs.get(key(row.get("organization_id")))
        if org is not None:
            org.services.append(row)
            service_org[key(row.get("id"))] = key(row.get("organization_id"))
            services[key(row.get("id"))] = row
    location_orgs: dict[str, list[str]] = {}
    for _, row in table("location"):
        if key(row.get("organization_id")):
            location_orgs.setdefault(key(row.get("id")), []).append(key(row.get("organization_id")))
    sal_service: dict[str, str] = {}
    for _, row in table("service_at_location"):
        sal_service[key(row.get("id"))] = key(row.get("service_id"))
        owner = service_org.get(key(row.get("service_id")))
        if owner is not None:
            location_orgs.setdefault(key(row.get("location_id")), []).append(owner)
    contact_org: dict[str, str] = {}

    def owners(row: dict[str, str]) -> list[str]:
        """The organizations a phone, contact or address row belongs to."""
        if key(row.get("organization_id")):
            return [key(row.get("organization_id"))]
        if key(row.get("service_id")) in service_org:
            return [service_org[key(row.get("service_id"))]]
        sal = sal_service.get(key(row.get("service_at_location_id")))
        if sal in service_org:
            return [service_org[sal]]
        if key(row.get("contact_id")) in contact_org:
            return [contact_org[key(row.get("contact_id"))]]
        return list(dict.fromkeys(location_orgs.get(key(row.get("location_id")), [])))

    for _, row in table("contact"):
        for o in owners(row)[:1]:
            if o in orgs:
                orgs[o].contacts.append(row)
                contact_org[key(row.get("id"))] = o
    for _, row in table("phone"):
        for o in owners(row)[:1]:
            if o in orgs:
                orgs[o].phones.append(row)
    for _, row in table("address"):
        for o in owners(row):
            if o in orgs:
                orgs[o].addresses.append(row)
    own = {mapping.term_id(c): c for c in mapping.attribute_fields()}
    own_services = {mapping.term_id(mapping.service_code(s)): s for s in mapping.SERVICE_LABEL}
    terms: dict[str, str] = {}
    for _, row in table("taxonomy_term"):
        code, name = (row.get("code") or "").strip(), (row.get("name") or "").strip()
        terms[key(row.get("id"))] = f"{code} {name}" if code and code != name else name
    for _, row in table("attribute"):
        term = key(row.get("taxonomy_term_id"))
        link, entity = key(row.get("link_id")), key(row.get("link_entity"))
        if entity == "organization" and link in orgs:
            if term in own:
                orgs[link].fields[own[term]] = row.get("value") or ""
            elif term in terms:
                orgs[link].terms.setdefault("", []).append(terms[term])
        elif entity == "service" and link in service_org and service_org[link] in orgs:
            org = orgs[service_org[link]]
            sid = services[link].get("id", "")
            if term in own_services:
                org.exact[sid] = own_services[term]
            elif term in terms:
                org.terms.setdefault(sid, []).append(terms[term])
    for org in orgs.values():
        if "" in org.terms:  # terms of the organization itself: read like a nameless service
            org.services.append({"id": "", "name": ""})
    return list(orgs.values())

"""A small HSDS 3.0 dataset as a 2-1-1 directory would publish it, built by the tests: three
organizations (one inactive), services with AIRS-style taxonomy terms, several phones, contacts
with e-mails, locations with addresses. Columns in the dataset's own order, optional ones
left out, as real directories do."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

PANTRY = "3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a01"
SHELTER = "3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a02"
CLINIC = "3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a03"
S_FOOD = "5a6b7c8d-0000-4000-8000-000000000001"
S_RENT = "5a6b7c8d-0000-4000-8000-000000000002"
S_SHELTER = "5a6b7c8d-0000-4000-8000-000000000003"
S_CLINIC = "5a6b7c8d-0000-4000-8000-000000000004"
LOC_PANTRY = "6b7c8d9e-0000-4000-8000-000000000001"
LOC_CLINIC = "6b7c8d9e-0000-4000-8000-000000000002"
TAX = "7c8d9e0f-0000-4000-8000-000000000001"
T_FOOD = "8d9e0f1a-0000-4000-8000-000000000001"
T_RENT = "8d9e0f1a-0000-4000-8000-000000000002"
T_DV = "8d9e0f1a-0000-4000-8000-000000000003"

TABLES: dict[str, list[list[str]]] = {
    "organizations.csv": [
        ["id", "name", "description", "email", "website"],
        [PANTRY, "Eastside Food Pantry", "Groceries for families, Tue and Thu.",
         "info@eastsidepantry.org", "https://eastsidepantry.org"],
        [SHELTER, "Harbor House", "Emergency shelter for survivors.", "", ""],
        [CLINIC, "Riverside Free Clinic", "Riverside Free Clinic", "", ""],
    ],
    "services.csv": [
        ["id", "organization_id", "name", "status", "email", "assured_date"],
        [S_FOOD, PANTRY, "Emergency Food", "active", "", "2026-05-01"],
        [S_RENT, PANTRY, "Rent Help", "active", "", "2026-06-15"],
        [S_SHELTER, SHELTER, "Safe Stay", "inactive", "intake@harborhouse.org", "2025-01-10"],
        [S_CLINIC, CLINIC, "Walk-in Primary Care", "temporarily closed", "", ""],
    ],
    "phones.csv": [
        ["id", "organization_id", "service_id", "location_id", "number", "extension", "type"],
        ["9e0f1a2b-0000-4000-8000-000000000001", PANTRY, "", "", "555-0100", "", "voice"],
        ["9e0f1a2b-0000-4000-8000-000000000002", "", S_FOOD, "", "555-0101", "12", "voice"],
        ["9e0f1a2b-0000-4000-8000-000000000003", PANTRY, "", "", "555-0102", "", "fax"],
        ["9e0f1a2b-0000-4000-8000-000000000004", "", "", LOC_CLINIC, "555-0300", "", ""],
    ],
    "contacts.csv": [
        ["id", "organization_id", "name", "title", "email"],
        ["0f1a2b3c-0000-4000-8000-000000000001", PANTRY, "Rosa Vega", "Director",
         "rosa@eastsidepantry.org"],
    ],
    "locations.csv": [
        ["id", "location_type", "organization_id", "name"],
        [LOC_PANTRY, "physical", PANTRY, "Pantry"],
        [LOC_CLINIC, "physical", "", "Clinic"],
    ],
    "service_at_location.csv": [
        ["id", "service_id", "location_id"],
        ["1a2b3c4d-0000-4000-8000-000000000001", S_CLINIC, LOC_CLINIC],
    ],
    "addresses.csv": [
        ["id", "location_id", "address_1", "address_2", "city", "state_province",
         "postal_code", "country", "address_type"],
        ["2b3c4d5e-0000-4000-8000-000000000001", LOC_PANTRY, "400 E 5th St", "", "Springfield",
         "IL", "62701", "US", "physical"],
        ["2b3c4d5e-0000-4000-8000-000000000002", LOC_CLINIC, "9 River Rd", "Suite 2",
         "Springfield", "IL", "62702", "US", "physical"],
    ],
    "taxonomies.csv": [
        ["id", "name", "description"],
        [TAX, "211 LA County Taxonomy", "AIRS / 211 LA County taxonomy of human services"],
    ],
    "taxonomy_terms.csv": [
        ["id", "code", "name", "description", "taxonomy_id"],
        [T_FOOD, "BD-1800.2000", "Food Pantries", "Food pantries", TAX],
        [T_RENT, "BH-3800.7000", "Rent Payment Assistance", "Help with rent", TAX],
        [T_DV, "BH-1800.1500-100", "Domestic Violence Shelters", "Shelters for survivors", TAX],
    ],
    "attributes.csv": [
        ["id", "link_id", "taxonomy_term_id", "link_entity", "value"],
        ["3c4d5e6f-0000-4000-8000-000000000001", S_FOOD, T_FOOD, "service", ""],
        ["3c4d5e6f-0000-4000-8000-000000000002", S_RENT, T_RENT, "service", ""],
        ["3c4d5e6f-0000-4000-8000-000000000003", S_SHELTER, T_DV, "service", ""],
    ],
}  # fmt: skip


def write_dataset(folder: Path, tables: dict[str, list[list[str]]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (tables or TABLES).items():
        with open(folder / name, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(rows)
    return folder


@pytest.fixture
def directory(tmp_path) -> Path:
    """The 2-1-1 directory's dataset, as a folder."""
    return write_dataset(tmp_path / "county")


@pytest.fixture
def tables() -> dict[str, list[list[str]]]:
    """A copy of the dataset's tables, to spoil."""
    return {k: [list(r) for r in v] for k, v in TABLES.items()}

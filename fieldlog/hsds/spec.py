"""The official HSDS 3.0 tabular schema, vendored in ``fieldlog/hsds/schema/`` (package data,
read offline): its resources (tables), their files and field names, and the descriptor of a
package holding some of them.

Only the standard library here: frictionless is imported by :mod:`fieldlog.hsds.validate`
alone, when a dataset is checked.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

SCHEMA_PACKAGE = "fieldlog.hsds.schema"
VERSION = "3.0"

# The tables fieldlog writes, by resource name (parents first): the ones its partners fill,
# and those their foreign keys point at (programs.csv stays empty: services may name one).
WRITTEN = (
    "organization", "program", "service", "location", "service_at_location", "address",
    "contact", "phone", "taxonomy", "taxonomy_term", "attribute",
)  # fmt: skip


@cache
def descriptor() -> dict[str, Any]:
    """The official datapackage.json (parsed once; callers get copies of what they change)."""
    text = resources.files(SCHEMA_PACKAGE).joinpath("datapackage.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def _by_name() -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in descriptor()["resources"]}


def resource_names() -> tuple[str, ...]:
    """Every table of HSDS 3.0, in the specification's order."""
    return tuple(_by_name())


def path_of(resource: str) -> str:
    """``organization`` -> ``organizations.csv``."""
    return str(_by_name()[resource]["path"])


def fields(resource: str) -> tuple[str, ...]:
    """The columns of a table, in the specification's order."""
    return tuple(f["name"] for f in _by_name()[resource]["schema"]["fields"])


def required(resource: str) -> tuple[str, ...]:
    """The columns HSDS requires in a table."""
    return tuple(
        f["name"]
        for f in _by_name()[resource]["schema"]["fields"]
        if f.get("constraints", {}).get("required")
    )


def package(names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The official descriptor with only the resources ``names`` (in the specification's
    order), each with its official schema unchanged, except foreign keys to a table that is
    not in the package (a dataset without programs.csv cannot point at a program: such a key
    would only make frictionless look for a file that is not there)."""
    keep = set(names)
    out = {k: v for k, v in descriptor().items() if k != "resources"}
    out["resources"] = []
    for r in descriptor()["resources"]:
        if r["name"] not in keep:
            continue
        r = copy.deepcopy(r)
        keys = r["schema"].get("foreignKeys")
        if keys:
            kept = [k for k in keys if k["reference"]["resource"] in keep]
            if kept:
                r["schema"]["foreignKeys"] = kept
            else:
                del r["schema"]["foreignKeys"]
        out["resources"].append(r)
    return out

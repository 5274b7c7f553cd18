"""Realistic practice data: partners, contacts over the past year, concerns of every category
and status, referrals in every status, and follow-ups due, overdue and ahead.

Rows are made in Python and inserted in batches inside one transaction through the write
path's bulk methods (``tx.insert_many`` under ``tx.bulk_index``: 100,000 contacts take a few
seconds); ids carry the time of the contact, as if each had been logged as it happened.
All names are invented; phone numbers use the 555-01xx range reserved for fiction.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fieldlog import dates, ids, models
from fieldlog.db.store import Store

HOODS = {
    "Eastside": ["E1", "E2"], "Riverside": ["R1", "R2"], "Old Town": ["O1"],
    "Northgate": ["N1", "N2"], "Southpark": ["S1"], "Harbor": ["H1"], "Millbrook": ["M1"],
    "Westview": ["W1", "W2"], "Cedar Hill": ["C1"], "Lakeshore": ["L1"],
}  # fmt: skip
PLACES = [
    "community center", "corner store", "bus stop", "church hall", "school gate", "park",
    "library", "laundromat", "apartment lobby", "food bank", "rec center", "coffee shop",
]  # fmt: skip
FIRST = [
    "Maria", "James", "Aisha", "Tom", "Li", "Carlos", "Grace", "Omar", "Ruth", "Devon", "Priya",
    "Sam", "Fatima", "Luis", "Hannah", "Kwame", "Ana", "Ben", "Mei", "Jorge", "Olga", "Tariq",
]  # fmt: skip
LAST = [
    "Reyes", "Okafor", "Nguyen", "Smith", "Haddad", "Kowalski", "Brown", "Singh", "Garcia",
    "Murphy", "Chen", "Johnson", "Ali", "Rossi", "Novak", "Baker", "Diaz", "Kim", "Osei",
]  # fmt: skip
PARTNERS = [
    ("St. Mark's Church", "faith", ["food", "youth"]),
    ("Grace Community Church", "faith", ["food"]),
    ("Eastside High School", "school", ["youth"]),
    ("Riverside Elementary", "school", ["youth"]),
    ("Hope Housing Coalition", "nonprofit", ["housing"]),
    ("Harbor Food Bank", "nonprofit", ["food"]),
    ("Northgate Youth League", "youth", ["youth"]),
    ("Boys & Girls Club Southpark", "youth", ["youth"]),
    ("County Mental Health Crisis Team", "health", ["mental_health"]),
    ("Lakeshore Recovery Center", "health", ["substance_use", "medical"]),
    ("Legal Aid Society", "nonprofit", ["legal"]),
    ("Victim Services Unit", "government", ["victim_services"]),
    ("Parks Dept", "government", ["youth", "other"]),
    ("Public Works", "government", ["other"]),
    ("City Housing Authority", "government", ["housing"]),
    ("Workforce Center", "government", ["employment"]),
    ("Old Town Merchants Association", "business", ["other"]),
    ("Cedar Hill Neighborhood Association", "neighborhood_association", ["other"]),
    ("Westview Free Clinic", "health", ["medical"]),
    ("Millbrook Senior Center", "nonprofit", ["food", "medical"]),
]
CONCERNS = {
    "traffic": ["speeding on {street}", "no crosswalk near the school", "cars running the stop"],
    "noise": ["late-night parties on {street}", "loud music from a car at night"],
    "youth": ["no lit court after 6pm", "kids with nowhere to go after school"],
    "housing": ["landlord not fixing heat", "family facing eviction"],
    "homelessness": ["encampment by the underpass", "man sleeping in the bus shelter"],
    "mental_health": ["neighbor in crisis, family worried", "elderly resident confused, alone"],
    "substance_use": ["needles found in the park", "suspected drug use in the stairwell"],
    "property_crime": ["bikes stolen from the rack", "car break-ins on {street}"],
    "violence": ["fight outside the bar on weekends", "domestic argument heard often"],
    "disorder": ["graffiti on the underpass", "dumping behind the shops"],
    "infrastructure": ["broken streetlight on {street}", "pothole at the corner"],
    "other": ["wants more foot patrols", "question about the community meeting"],
}
STREETS = ["Main St", "Oak Ave", "5th St", "River Rd", "Elm St", "Cedar Ln", "Harbor Blvd"]
SUMMARIES = {
    "resident": ["Spoke with {name} at the {place}", "Door-knock: {name} raised concerns",
                 "{name} stopped me at the {place}"],
    "business": ["Visited the owner of the {place}", "Check-in with {name}, shop owner"],
    "organization": ["Met {org} staff", "Partnership meeting with {org}"],
    "event": ["Community barbecue at the {place}", "Coffee with a Cop at the {place}"],
    "meeting": ["Neighborhood association meeting", "Block watch meeting at the {place}"],
    "phone": ["Phone call from {name}", "Returned call to {name}"],
    "other": ["Walk-and-talk around the {place}"],
}  # fmt: skip
KIND_WEIGHTS = [("resident", 50), ("business", 12), ("organization", 10), ("event", 8),
                ("meeting", 8), ("phone", 10), ("other", 2)]  # fmt: skip
TAGS = ["youth-outreach", "night-shift", "follow-up", "school-zone", "faith", "senior", "walk"]
OUTCOMES = {
    "completed": "Service provided; resident satisfied",
    "declined": "Resident declined the service",
    "unreachable": "Agency could not reach the resident",
    "accepted": "Intake scheduled",
}


def fill(
    store: Store,
    contacts: int,
    *,
    seed: int = 7,
    progress: Callable[[int, int], None] | None = None,
    batch: int = 5000,
) -> dict[str, int]:
    """Add demo data in one transaction; returns counts of what was added.

    ``progress(done, total)`` is called after each batch; indexing and the commit at the end
    count as a fifth of the work, so a bar does not sit at 100% while they run.
    """
    total = contacts + max(1, contacts // 4)
    rnd = random.Random(seed)
    # Repeatable ids on a fresh log (screenshots, tests); fresh ones when adding to a log that
    # may already hold this seed's ids.
    id_rnd = random.Random(seed if store.contacts.count() == 0 else None)

    def new_id(unix_ms: int) -> str:
        return ids.uuid7_hex(unix_ms, id_rnd.getrandbits(80))

    now = dates.now()
    today = dates.now_local().date()
    kinds = [k for k, _ in KIND_WEIGHTS]
    kind_w = [w for _, w in KIND_WEIGHTS]
    categories = list(models.CONCERN_CATEGORIES)
    counts = {"contacts": 0, "concerns": 0, "referrals": 0, "organizations": 0}

    tables = ["organizations", "contacts", "concerns", "referrals"]
    with store.write() as tx, tx.bulk_index(tables):
        stamp_now = dates.stamp_now()

        def base(rid: str) -> dict[str, Any]:
            return tx.new_row(rid, at=stamp_now)

        existing = {o["name"].lower() for o in store.orgs.list()}
        orgs = []
        first_ms = int(now.timestamp() * 1000) - 400 * 86400 * 1000
        for i, (name, kind, services) in enumerate(PARTNERS):
            hood = rnd.choice(list(HOODS))
            org = {
                **base(new_id(first_ms + i * 86400 * 1000)), "name": name, "kind": kind,
                "contact_person": f"{rnd.choice(FIRST)} {rnd.choice(LAST)}",
                "phone": f"555-01{i:02d}", "email": f"info{i}@example.org",
                "address": f"{rnd.randint(10, 999)} {rnd.choice(STREETS)}",
                "neighborhood": hood, "services": services, "status": "active",
                "last_verified": (today - timedelta(days=rnd.randint(0, 200))).isoformat(),
                "notes": None,
            }  # fmt: skip
            orgs.append(org)
        new_orgs = [o for o in orgs if o["name"].lower() not in existing]
        counts["organizations"] = tx.insert_many("organizations", new_orgs)

        span_ms = 365 * 86400 * 1000
        now_ms = int(now.timestamp() * 1000)
        # Oldest first, so ids (time-ordered) append to the indexes instead of splitting pages.
        times = sorted(now_ms - int(span_ms * rnd.random() ** 1.5) for _ in range(contacts))
        done = 0
        while done < contacts:
            n = min(batch, contacts - done)
            crow, krow, rrow = [], [], []
            for at_ms in times[done : done + n]:
                at = dates.from_storage("1970-01-01T00:00:00Z") + timedelta(milliseconds=at_ms)
                kind = rnd.choices(kinds, kind_w)[0]
                hood = rnd.choice(list(HOODS))
                person = f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"
                org = rnd.choice(orgs)
                summary = rnd.choice(SUMMARIES[kind]).format(
                    name=person, place=rnd.choice(PLACES), org=org["name"]
                )
                follow = None
                if rnd.random() < 0.05:
                    follow = (today + timedelta(days=rnd.randint(-10, 20))).isoformat()
                cid = new_id(at_ms)
                crow.append({
                    **base(cid), "occurred_at": dates.to_storage(at), "kind": kind,
                    "person_name": person if kind in ("resident", "phone", "business") else None,
                    "organization_id": org["id"] if kind == "organization" else None,
                    "neighborhood": hood, "beat": rnd.choice(HOODS[hood]),
                    "location": f"{rnd.choice(PLACES)}, {rnd.choice(STREETS)}",
                    "summary": summary,
                    "notes": "Left my card; will check back." if rnd.random() < 0.3 else None,
                    "tags": rnd.sample(TAGS, rnd.choice([0, 0, 1, 1, 2])),
                    "follow_up_on": follow,
                })  # fmt: skip
                age_days = (now_ms - at_ms) / 86400000
                for _ in range(rnd.choice([0, 0, 1, 1, 1, 2])):
                    cat = rnd.choice(categories)
                    status = rnd.choice(models.CONCERN_STATUSES)
                    if age_days > 60 and rnd.random() < 0.6:
                        status = "resolved"
                    kid = new_id(at_ms + 1)
                    krow.append({
                        **base(kid), "contact_id": cid, "category": cat,
                        "description": rnd.choice(CONCERNS[cat]).format(
                            street=rnd.choice(STREETS)),
                        "priority": rnd.choices(models.PRIORITIES, [2, 6, 2, 1])[0],
                        "status": status,
                        "resolved_at": dates.to_storage(at + timedelta(days=rnd.randint(1, 30)))
                        if status == "resolved" else None,
                        "resolution": "Handled with the partner" if status == "resolved"
                        else None,
                    })  # fmt: skip
                    if status in ("referred", "resolved") or rnd.random() < 0.15:
                        candidates = [o for o in orgs if cat in o["services"]] or orgs
                        partner = rnd.choice(candidates)
                        rstatus = rnd.choice(models.REFERRAL_STATUSES)
                        if age_days > 60 and rnd.random() < 0.7:
                            rstatus = rnd.choice(["completed", "declined"])
                        if rstatus in models.REFERRAL_OPEN_STATUSES:
                            due = today + timedelta(days=rnd.randint(-14, 21))
                        else:
                            due = at.date() + timedelta(days=7)
                        rrow.append({
                            **base(new_id(at_ms + 2)), "contact_id": cid,
                            "concern_id": kid, "organization_id": partner["id"],
                            "agency": partner["name"],
                            "service": cat if cat in models.REFERRAL_SERVICES
                            else partner["services"][0],
                            "reason": f"Help with: {krow[-1]['description']}",
                            "status": rstatus, "follow_up_on": due.isoformat(),
                            "outcome": OUTCOMES.get(rstatus),
                        })  # fmt: skip
            counts["contacts"] += tx.insert_many("contacts", crow)
            counts["concerns"] += tx.insert_many("concerns", krow)
            counts["referrals"] += tx.insert_many("referrals", rrow)
            done += n
            if progress:
                progress(done, total)
    if progress:
        progress(total, total)
    return counts

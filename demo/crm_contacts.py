"""Reverse ETL from a CRM: demo/crm/upsert_contact.csv upserts contacts, then the tap reads them back.

`meltano run tap-csv-folder target-calendly` with the folder demo/crm/ makes the stream
`upsert_contact` (the file's name), one record per CRM row. The last row repeats the first
contact's email in other letters with one more email: it updates the contact the first row made.
Reading back: after `meltano run tap-calendly target-duckdb`, each CRM contact is one row of
`calendly.contacts` carrying the CRM's values.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import duckdb

CRM_FOLDER = Path(__file__).with_name("crm")
CRM_CSV = CRM_FOLDER / "upsert_contact.csv"
SCALARS = ("name", "company", "job_title", "city", "state", "country", "timezone")


def meltano_env(responses: Path) -> dict[str, str]:
    """What points `meltano run tap-csv-folder target-calendly` at the CRM export."""
    return {
        "TAP_CSV_FOLDER_PATH": str(CRM_FOLDER),
        "TARGET_CALENDLY_RESPONSES_PATH": str(responses),
    }


def crm_rows() -> list[dict[str, str]]:
    with CRM_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def expected_contacts() -> dict[str, dict[str, Any]]:
    """Per lowercased primary email: the scalar values and every email the rows give it."""
    expected: dict[str, dict[str, Any]] = {}
    for row in crm_rows():
        contact = expected.setdefault(row["email"].lower(), {"emails": {row["email"].lower()}})
        contact.update({name: row[name] for name in SCALARS if row[name]})
        contact["emails"] |= {e.lower() for e in json.loads(row["other_emails"] or "[]")}
    return expected


def loaded_contacts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Rows of calendly.contacts by lowercased primary email."""
    columns = ("uri", "emails", *SCALARS)
    rows = con.execute(f"SELECT {', '.join(columns)} FROM calendly.contacts").fetchall()  # noqa: S608
    loaded: dict[str, dict[str, Any]] = {}
    for values in rows:
        row = dict(zip(columns, values, strict=True))
        emails = json.loads(row["emails"]) if isinstance(row["emails"], str) else row["emails"]
        row["emails"] = {e["email"].lower() for e in emails}
        primary = next(e["email"].lower() for e in emails if e["is_primary"])
        loaded.setdefault(primary, {}).update(row)
    return loaded


def read_back_problems(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What the warehouse shows differently from the CRM export (empty: all there)."""
    loaded = loaded_contacts(con)
    problems = []
    for email, want in expected_contacts().items():
        got = loaded.get(email)
        if got is None:
            problems.append(f"{email}: no row in calendly.contacts")
            continue
        if not want["emails"] <= got["emails"]:
            problems.append(f"{email}: emails {sorted(got['emails'])} lack some of the CRM's")
        problems.extend(
            f"{email}: {name} is {got[name]!r}, the CRM says {value!r}"
            for name, value in want.items()
            if name != "emails" and got.get(name) != value
        )
    return problems

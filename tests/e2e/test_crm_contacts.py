"""The CRM export upserts through the real `meltano run`, lands in the sandbox, reads back through
the tap into DuckDB, and a rerun changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from calendly_sandbox import Sandbox
from demo import crm_contacts, reverse_etl, warehouse
from demo.run import EXTRACT, REVERSE_ETL, Layout
from tests.e2e.conftest import meltano_for

pytestmark = pytest.mark.slow


def upsert(layout: Layout, sandbox: Sandbox, sys_dir: Path, responses: Path) -> list[dict]:
    meltano = meltano_for(layout, sandbox, sys_dir)
    meltano.env = {**meltano.env, **crm_contacts.meltano_env(responses)}
    meltano.run(REVERSE_ETL, layout.log(f"crm-{responses.stem}"))
    return reverse_etl.read_outcomes(responses)


def contact_writes(sandbox: Sandbox) -> list[tuple[str, int]]:
    return [
        (e.method, e.status)
        for e in list(sandbox.request_log)
        if e.method != "GET" and e.path.startswith("/contacts")
    ]


def test_crm_contacts_upsert_read_back_and_rerun(
    sandbox: Sandbox, meltano_sys_dir: Path, tmp_path: Path
) -> None:
    layout = Layout(tmp_path)
    expected = crm_contacts.expected_contacts()

    outcomes = upsert(layout, sandbox, meltano_sys_dir, tmp_path / "first.jsonl")

    assert [(o["outcome"], o["http_status"]) for o in outcomes] == [("ok", 201)] * 4 + [
        ("ok", 200)
    ], outcomes
    stored = {
        next(e["email"] for e in c["emails"] if e["is_primary"]).lower(): c
        for c in sandbox.store.contacts.values()
    }
    for email, want in expected.items():
        contact = stored[email]
        assert {e["email"].lower() for e in contact["emails"]} == want["emails"]
        assert {k: contact[k] for k in want if k != "emails"} == {
            k: v for k, v in want.items() if k != "emails"
        }
    ada = stored["ada.lovelace@analytical.example.com"]
    assert {f["label"] for f in ada["custom_fields"]} == {
        "Lifecycle stage",
        "Deal size",
        "Interests",
    }

    meltano_for(layout, sandbox, meltano_sys_dir).run(EXTRACT, layout.log("extract"))
    with warehouse.connect(layout.database) as con:
        assert crm_contacts.read_back_problems(con) == []
        loaded = con.execute("SELECT count(*) FROM calendly.contacts").fetchone()
    assert loaded is not None and loaded[0] == len(sandbox.store.contacts)

    writes_before = contact_writes(sandbox)
    again = upsert(layout, sandbox, meltano_sys_dir, tmp_path / "again.jsonl")
    assert [o["outcome"] for o in again] == ["skipped"] * 5
    assert contact_writes(sandbox) == writes_before, "a rerun sends no write"

"""The real `meltano run` against a sandbox: every emitted record lands, reverse ETL takes effect."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from calendly_sandbox import Sandbox
from demo import counts, reverse_etl, warehouse
from demo.meltano import Meltano, RunResult
from demo.run import CORE_STREAMS, EXTRACT, REVERSE_ETL, Layout
from tests.e2e.conftest import meltano_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    return Layout(tmp_path_factory.mktemp("e2e-output"))


@pytest.fixture(scope="module")
def extracted(layout: Layout, sandbox: Sandbox, meltano_sys_dir: Path) -> RunResult:
    meltano = meltano_for(layout, sandbox, meltano_sys_dir)
    return meltano.run(EXTRACT, layout.log("extract"))


def test_every_emitted_record_is_a_row(extracted: RunResult, layout: Layout) -> None:
    with warehouse.connect(layout.database) as con:
        rows = warehouse.table_row_counts(con)
    stream_counts = counts.compare(
        extracted.emitted("tap-calendly"), counts.read_receipt(layout.receipt), rows
    )

    assert [c for c in stream_counts if not c.ok] == []
    counts.require_complete(stream_counts, nonempty=CORE_STREAMS)
    assert {c.stream for c in stream_counts} >= set(CORE_STREAMS)


def test_counts_match_the_sandbox(extracted: RunResult, sandbox: Sandbox) -> None:
    """The tap read everything the sandbox holds (its start_date is before all generated data)."""
    emitted = extracted.emitted("tap-calendly")

    assert emitted["scheduled_events"] == len(sandbox.store.scheduled_events)
    assert emitted["invitees"] == len(sandbox.store.invitees)
    assert emitted["event_types"] == len(sandbox.store.event_types)
    assert emitted["organization_memberships"] == len(sandbox.store.organization_memberships)


def test_nested_and_date_time_fields_are_usable(
    extracted: RunResult, layout: Layout, sandbox: Sandbox
) -> None:
    event = next(iter(sandbox.store.scheduled_events.values()))
    with warehouse.connect(layout.database) as con:
        start_time, location_type, guests = con.execute(
            "SELECT start_time, location->>'type', json_array_length(event_guests) "
            "FROM calendly.scheduled_events WHERE uri = ?",
            [event["uri"]],
        ).fetchall()[0]
        column_types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'calendly' AND table_name = 'scheduled_events'"
            ).fetchall()
        )

    expected_start = dt.datetime.fromisoformat(event["start_time"].replace("Z", "+00:00"))
    assert start_time == expected_start.replace(tzinfo=None)
    assert location_type == event["location"]["type"]
    assert guests == len(event["event_guests"])
    assert column_types["start_time"] == "TIMESTAMP"
    assert column_types["location"] == "JSON"


@pytest.fixture(scope="module")
def reverse_etl_inputs(
    extracted: RunResult, layout: Layout, sandbox: Sandbox, meltano_sys_dir: Path
) -> dict[str, dict[str, Any]]:
    """One reverse-ETL run (CSV per action, picked from the loaded rows); returns the inputs."""
    with warehouse.connect(layout.database) as con:
        chosen = reverse_etl.write_inputs(con, layout.reverse_etl_inputs)
    meltano_for(layout, sandbox, meltano_sys_dir).run(REVERSE_ETL, layout.log("reverse-etl"))
    return chosen


def test_reverse_etl_takes_effect(
    reverse_etl_inputs: dict[str, dict[str, Any]], layout: Layout, sandbox: Sandbox
) -> None:
    outcomes = {o["action"]: o for o in reverse_etl.read_outcomes(layout.responses)}
    assert {a: o["outcome"] for a, o in outcomes.items()} == {
        "cancel_event": "ok",
        "mark_no_show": "ok",
        "create_scheduling_link": "ok",
    }
    store = sandbox.store
    event = store.scheduled_events[_uuid(reverse_etl_inputs["cancel_event"]["event"])]
    invitee = store.invitees[_uuid(reverse_etl_inputs["mark_no_show"]["invitee"])]
    links = list(store.scheduling_links.values())
    assert event["status"] == "canceled"
    assert invitee.get("no_show") is not None
    assert reverse_etl_inputs["create_scheduling_link"]["event_type"] in {
        link.get("owner") for link in links
    }
    booking_url = outcomes["create_scheduling_link"]["response"]["booking_url"]
    assert booking_url in {link.get("booking_url") for link in links}


def test_reverse_etl_rerun_skips_what_is_already_done(
    reverse_etl_inputs: dict[str, dict[str, Any]],
    layout: Layout,
    sandbox: Sandbox,
    meltano_sys_dir: Path,
    tmp_path: Path,
) -> None:
    """The same CSVs again, with a fresh responses file: Calendly already shows the effect."""
    responses = tmp_path / "responses.jsonl"
    meltano = meltano_for(layout, sandbox, meltano_sys_dir)
    meltano.env = {**meltano.env, "TARGET_CALENDLY_RESPONSES_PATH": str(responses)}

    meltano.run(REVERSE_ETL, tmp_path / "reverse-etl-again.log")

    outcomes = {o["action"]: o["outcome"] for o in reverse_etl.read_outcomes(responses)}
    assert outcomes["cancel_event"] == "skipped"
    assert outcomes["mark_no_show"] == "skipped"


def _uuid(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def test_prod_environment_authenticates_with_oauth_from_the_environment(
    meltano_sys_dir: Path, tmp_path: Path
) -> None:
    """`--environment prod` with only CALENDLY_CLIENT_ID/SECRET/REFRESH_TOKEN set: the rotated
    refresh token is kept in refresh_token_path, so a second run still authenticates."""
    layout = Layout(tmp_path)
    token_file = tmp_path / "calendly-refresh-token"
    with Sandbox(seed=11, events=20) as oauth_sandbox:
        env = {
            "MELTANO_ENVIRONMENT": "prod",
            "MELTANO_SYS_DIR_ROOT": str(meltano_sys_dir),
            "MELTANO_STATE_BACKEND_URI": layout.state.as_uri(),
            "CALENDLY_TOKEN": "",
            "CALENDLY_ORGANIZATION": "",
            "CALENDLY_CLIENT_ID": "sandbox-client",
            "CALENDLY_CLIENT_SECRET": "sandbox-secret",
            "CALENDLY_REFRESH_TOKEN": "sandbox-refresh-token",
            "TAP_CALENDLY_API_URL": oauth_sandbox.base_url,
            "TAP_CALENDLY_REFRESH_TOKEN_PATH": str(token_file),
            "TARGET_DUCKDB_PATH": str(layout.database),
            "TARGET_DUCKDB_RECORD_COUNTS_PATH": str(layout.receipt),
        }
        meltano = Meltano(env=env, say=lambda _line: None)

        first = meltano.run(EXTRACT, layout.log("prod-1"))
        rotated = token_file.read_text(encoding="utf-8").strip()
        second = meltano.run(EXTRACT, layout.log("prod-2"), extra=("--full-refresh",))

    assert first.emitted("tap-calendly")["scheduled_events"] == 20
    assert second.emitted("tap-calendly")["scheduled_events"] == 20
    assert rotated not in ("", "sandbox-refresh-token")
    assert token_file.stat().st_mode & 0o777 == 0o600

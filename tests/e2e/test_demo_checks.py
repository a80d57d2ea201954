"""The demo's checks catch what they exist to catch (unit tests of demo.counts and demo.meltano)."""

from __future__ import annotations

import json

import pytest

from demo import counts
from demo.meltano import install_summary, read_install_line, record_count_metric
from demo.warehouse import format_table

RECEIPT = {
    "users": {"records": 3, "distinct_keys": 3},
    "invitees": {"records": 5, "distinct_keys": 5},
}


def test_matching_counts_pass() -> None:
    result = counts.compare({"users": 3, "invitees": 5}, RECEIPT, {"users": 3, "invitees": 5})

    counts.require_complete(result, nonempty=("users",))
    assert all(c.ok for c in result)


@pytest.mark.parametrize(
    ("emitted", "rows", "expected"),
    [
        ({"users": 3, "invitees": 5}, {"users": 2, "invitees": 5}, "3 distinct records but 2 rows"),
        ({"users": 4, "invitees": 5}, {"users": 3, "invitees": 5}, "tap emitted 4 but the loader"),
        ({"users": 3, "invitees": 5}, {"users": 3}, "no table in DuckDB"),
    ],
)
def test_a_lost_record_fails_loudly(
    emitted: dict[str, int], rows: dict[str, int], expected: str
) -> None:
    result = counts.compare(emitted, RECEIPT, rows)

    with pytest.raises(counts.RowCountMismatchError, match=expected):
        counts.require_complete(result)


def test_repeated_keys_are_reported() -> None:
    receipt = {"users": {"records": 4, "distinct_keys": 3}}

    result = counts.compare({"users": 4}, receipt, {"users": 3})

    assert result[0].problems == ["1 records repeat a primary key"]


def test_an_empty_core_stream_fails() -> None:
    result = counts.compare({}, {"users": {"records": 0, "distinct_keys": 0}}, {"users": 0})

    with pytest.raises(counts.RowCountMismatchError, match="users: expected rows"):
        counts.require_complete(result, nonempty=("users",))


def test_record_count_metric_read_from_structured_and_plain_logs() -> None:
    metric = {"type": "counter", "metric": "record_count", "value": 7, "tags": {"stream": "users"}}
    timer = {"type": "timer", "metric": "sync_duration", "value": 0.1, "tags": {"stream": "users"}}

    assert record_count_metric({"event": "METRIC", "metric_info": metric}) == ("users", 7)
    assert record_count_metric({"event": f"METRIC: {json.dumps(metric)}"}) == ("users", 7)
    assert record_count_metric({"event": "METRIC", "metric_info": timer}) is None
    assert record_count_metric({"event": "Beginning sync of 'users'"}) is None


def test_format_table_aligns_wide_characters() -> None:
    table = format_table(["event_type", "n"], [("面談", 2), ("Intro call", 10)]).splitlines()

    assert table[2] == "  面談         2"
    assert table[3] == "  Intro call  10"


def test_install_summary_says_which_plugins_needed_no_installation() -> None:
    """`meltano install` ends with "Installed 6/9 plugins" when 3 share their parent's venv."""
    outcomes: dict[str, str | None] = {}
    lines = [
        "Installing 3 plugins",
        "Installed extractor 'tap-calendly'",
        "Installed utility 'dbt'",
        "Skipped installing utility 'dbt-duckdb'. Plugin 'dbt-duckdb' does not require "
        "installation: reusing parent virtualenv.",
        "Installed 2/3 plugins",
        "Skipped installing 1/3 plugins",
    ]

    shown = [line for line in lines if not read_install_line(line, outcomes)]

    assert shown == [
        "Installing 3 plugins",
        "Installed extractor 'tap-calendly'",
        "Installed utility 'dbt'",
    ]
    assert install_summary(outcomes) == (
        "    installed 2 plugins (dbt, tap-calendly); 1 more need no installation of their own: "
        "dbt-duckdb (reusing parent virtualenv)"
    )

"""The tap's timestamps are parsed by pendulum, never by hand."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tap_calendly.timestamps import format_timestamp, parse_timestamp

UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-01-02T03:04:05.678123Z", datetime(2020, 1, 2, 3, 4, 5, 678123, tzinfo=UTC)),
        ("2020-01-02t03:04:05z", datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)),  # RFC 3339 allows it
        ("2020-01-02T05:04:05+02:00", datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2020-01-02T03:04:05", datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)),  # no offset: UTC
        ("2020-01-02", datetime(2020, 1, 2, tzinfo=UTC)),  # a start_date given as a date
    ],
)
def test_parses_rfc_3339_and_iso_8601(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() is not None


@pytest.mark.parametrize("text", ["yesterday", "10:00", "P1D", "2020-13-01"])
def test_refuses_what_is_not_a_date_time(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_formats_in_calendlys_own_format() -> None:
    moment = datetime(2020, 1, 2, 5, 4, 5, 6, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(moment) == "2020-01-02T03:04:05.000006Z"


def test_the_tap_parses_date_times_with_pendulum_only() -> None:
    root = Path(__file__).resolve().parents[2]
    calls = [
        f"{source.relative_to(root)}:{node.lineno}"
        for source in sorted((root / "tap_calendly").rglob("*.py"))
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in ("fromisoformat", "strptime")
    ]
    assert calls == []

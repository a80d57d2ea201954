"""output/demo/report.html opened in a real headless Chromium: its four charts render, from the
marts, and show the marts' numbers (which the sandbox's store confirms)."""

from __future__ import annotations

import math
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from demo import report, warehouse
from tests.analytics import browser
from tests.analytics.expected import Expected
from tests.analytics.warehouses import Warehouse, query

pytestmark = pytest.mark.slow


class Elements(HTMLParser):
    """Every element's tag and attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))


@pytest.fixture(scope="module")
def page(duckdb_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    report.write(duckdb_warehouse.layout.database, path)
    return path


@pytest.fixture(scope="module")
def rendered(page: Path) -> list[tuple[str, dict[str, str]]]:
    parser = Elements()
    parser.feed(browser.dump_dom(page))
    return parser.found


def marks(rendered: list[tuple[str, dict[str, str]]], **match: str) -> list[dict[str, str]]:
    return [
        attrs
        for _tag, attrs in rendered
        if "data-value" in attrs and all(attrs.get(f"data-{k}") == v for k, v in match.items())
    ]


def test_the_page_needs_no_network(page: Path) -> None:
    text = page.read_text(encoding="utf-8")

    assert "default-src 'none'" in text
    assert not re.search(r"<(link|img|iframe)\b|\bsrc\s*=|@import|url\(", text)


def test_all_four_charts_render(rendered: list[tuple[str, dict[str, str]]]) -> None:
    body = next(attrs for tag, attrs in rendered if tag == "body")
    charts = [attrs["data-chart"] for _tag, attrs in rendered if "data-chart" in attrs]

    assert charts == ["bookings-per-week", "host-rates", "lead-times", "routing-conversion"]
    assert body["data-charts-rendered"] == "4"
    assert sum(tag == "rect" for tag, _ in rendered) > 20


def test_totals_are_the_stores(
    rendered: list[tuple[str, dict[str, str]]], expected: Expected
) -> None:
    totals = {
        attrs["data-total"]: int(attrs["data-value"])
        for _t, attrs in rendered
        if "data-total" in attrs
    }
    fates = expected.fates()

    assert totals == {
        "bookings": len(expected.invitees),
        "canceled": fates["canceled"],
        "no_shows": fates["no_show"],
        "rescheduled": fates["rescheduled"],
    }


def test_bookings_per_week_show_the_weekly_mart(
    rendered: list[tuple[str, dict[str, str]]], duckdb_warehouse: Warehouse, expected: Expected
) -> None:
    bars = {
        (b["data-week"], b["data-series"]): int(b["data-value"])
        for b in marks(rendered)
        if "data-week" in b
    }
    mart = {
        (str(week), name): int(total)
        for week, name, total in query(
            duckdb_warehouse,
            "select start_week, event_type_name, sum(bookings) from "
            "analytics.weekly_event_type_metrics group by 1, 2",
        )
    }

    assert bars == mart
    assert sum(bars.values()) == len(expected.invitees)


def test_host_rates_show_the_host_mart(
    rendered: list[tuple[str, dict[str, str]]], duckdb_warehouse: Warehouse
) -> None:
    shown = {
        (b["data-host"], b["data-measure"]): b["data-value"]
        for _t, b in rendered
        if "data-host" in b
    }
    mart = query(
        duckdb_warehouse,
        "select host_name, sum(canceled) * 1.0 / sum(bookings), "
        "sum(held_no_shows) * 1.0 / nullif(sum(held_bookings), 0) "
        "from analytics.weekly_host_metrics group by host_user_uri, host_name",
    )

    assert len(shown) == 2 * len(mart) > 0
    for host, cancellation, no_show in mart:
        assert math.isclose(float(shown[(host, "cancellation_rate")]), cancellation)
        if no_show is None:
            assert shown[(host, "no_show_rate")] == ""
        else:
            assert math.isclose(float(shown[(host, "no_show_rate")]), no_show)
    assert any(float(v or 0) > 0 for (_h, m), v in shown.items() if m == "cancellation_rate")


def test_lead_time_distribution_counts_every_booking(
    rendered: list[tuple[str, dict[str, str]]], expected: Expected
) -> None:
    columns = [b for b in marks(rendered) if "data-label" in b and "data-form" not in b]
    shown = {b["data-label"]: int(b["data-value"]) for b in columns}
    want: Counter[str] = Counter()
    for invitee in expected.invitees.values():
        hours = expected.lead_time_hours(invitee)
        label = next(
            label for label, upper in report.LEAD_TIME_BUCKETS if upper is None or hours < upper
        )
        want[label] += 1

    assert list(shown) == [label for label, _ in report.LEAD_TIME_BUCKETS]
    assert shown == {label: want[label] for label in shown}


def test_routing_conversion_shows_submissions_that_became_bookings(
    rendered: list[tuple[str, dict[str, str]]], expected: Expected
) -> None:
    shown: dict[str, dict[str, str]] = {}
    for _t, attrs in rendered:
        if "data-form" in attrs:
            shown.setdefault(attrs["data-form"], {})[attrs["data-measure"]] = attrs["data-value"]
    converted = expected.converted_by_form()
    want = {
        expected.forms[form]["name"]: (submissions, converted[form])
        for form, (submissions, _booked) in expected.conversion_by_form().items()
    }

    assert {name: (int(m["submissions"]), int(m["converted"])) for name, m in shown.items()} == want
    for name, measures in shown.items():
        submissions, alive = want[name]
        assert math.isclose(float(measures["conversion_rate"]), alive / submissions)


def test_the_report_says_as_of_when_its_data_is(page: Path, duckdb_warehouse: Warehouse) -> None:
    with warehouse.connect(duckdb_warehouse.layout.database) as con:
        as_of = warehouse.data_as_of(con)

    assert f'<p class="note" id="as-of">Data as of {as_of}.</p>' in page.read_text(encoding="utf-8")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(.+\)", as_of)


def test_screenshot_of_the_report(page: Path, tmp_path: Path) -> None:
    """A picture to look at (kept next to the report); PNG and not blank-sized."""
    shot = browser.screenshot(page, page.with_suffix(".png"))

    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000

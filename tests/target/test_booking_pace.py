"""book_meeting keeps to the Scheduling API's own limits (POST /invitees, per plan) and waits out
a 429 instead of failing. The target and the sandbox's windows share one fake clock: a day
passes when the target sleeps, and no test waits for real."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from calendly_sandbox import Sandbox
from tests.target.helpers import config_for, run_target, stream_of
from tests.target.test_actions import NOW, solo_event_type


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += max(0.0, seconds)


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_sandbox(fake: FakeTime) -> Iterator[Any]:
    started: list[Sandbox] = []

    def make(plan: str, stage: str | None = None) -> Sandbox:
        sb = Sandbox(seed=1, events=40, plan=plan, stage=stage, limits_clock=fake.clock)
        started.append(sb.start())
        return sb

    yield make
    for sb in started:
        sb.stop()


def bookings(sb: Sandbox, count: int, tag: str) -> list[dict[str, Any]]:
    event_type = solo_event_type(sb)["uri"]
    first = (NOW + dt.timedelta(days=5)).replace(minute=0, second=0, microsecond=0)
    return [
        {
            "event_type": event_type,
            "start_time": (first + dt.timedelta(hours=n)).isoformat().replace("+00:00", "Z"),
            "email": f"{tag}{n}@example.com",
            "name": f"Prospect {n}",
            "timezone": "UTC",
        }
        for n in range(count)
    ]


def book(sb: Sandbox, fake: FakeTime, tmp_path: Path, records: list[dict[str, Any]]):
    config = config_for(sb, tmp_path / "responses.jsonl")
    return run_target(
        config, stream_of("book_meeting", *records), clock=fake.clock, sleep=fake.sleep
    )


def refused(sb: Sandbox) -> list[Any]:
    return [e for e in sb.request_log if e.path == "/invitees" and e.status == 429]


def test_paid_plans_below_enterprise_are_paced_to_ten_a_minute(
    make_sandbox: Any, fake: FakeTime, tmp_path: Path
) -> None:
    sb = make_sandbox("teams")
    start = fake.now
    result = book(sb, fake, tmp_path, bookings(sb, 12, "paid"))

    assert result.error is None, result.lines
    assert result.outcomes() == ["ok"] * 12
    assert refused(sb) == []  # paced, never refused
    assert fake.now - start >= 60  # the 11th waited for the minute


def test_a_trial_books_five_a_day(make_sandbox: Any, fake: FakeTime, tmp_path: Path) -> None:
    sb = make_sandbox("teams", stage="trial")
    start = fake.now
    result = book(sb, fake, tmp_path, bookings(sb, 6, "trial"))

    assert result.outcomes() == ["ok"] * 6
    assert refused(sb) == []
    assert fake.now - start >= 86400


def test_a_429_from_bookings_made_elsewhere_is_waited_out(
    make_sandbox: Any, fake: FakeTime, tmp_path: Path
) -> None:
    """Another run of the same user booked the trial's five today: this run cannot know until
    Calendly refuses; it waits for the window instead of failing the record or the run."""
    sb = make_sandbox("teams", stage="trial")
    for record in bookings(sb, 5, "elsewhere"):
        body = {
            "event_type": record["event_type"],
            "start_time": record["start_time"],
            "invitee": {"email": record["email"], "name": record["name"], "timezone": "UTC"},
        }
        answer = requests.post(
            f"{sb.base_url}/invitees",
            json=body,
            headers={"Authorization": f"Bearer {sb.token}"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
    start = fake.now
    records = [
        {**r, "start_time": r["start_time"].replace(":00:00Z", ":30:00Z")}
        for r in bookings(sb, 2, "here")
    ]
    result = book(sb, fake, tmp_path, records)

    assert result.error is None, result.lines
    assert result.outcomes() == ["ok", "ok"]
    assert len(refused(sb)) >= 1
    assert fake.now - start >= 86400

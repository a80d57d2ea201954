"""The throttle paces every thread of a run and adapts to the limit Calendly reports."""

import threading

from calendly_http import Throttle


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_fixed_rate_spaces_requests_evenly() -> None:
    fake = FakeTime()
    throttle = Throttle(120, clock=fake.clock, sleep=fake.sleep)
    waits = [throttle.acquire() for _ in range(5)]
    assert waits == [0.0, 0.5, 0.5, 0.5, 0.5]
    assert fake.now == 2.0


def test_no_window_of_sixty_seconds_exceeds_the_rate() -> None:
    fake = FakeTime()
    throttle = Throttle(100, clock=fake.clock, sleep=fake.sleep)
    sent_at = []
    for _ in range(300):
        throttle.acquire()
        sent_at.append(fake.now)
    for start in sent_at:
        in_window = [t for t in sent_at if start <= t < start + 60 - 1e-6]  # float noise
        assert len(in_window) <= 100


def test_adapts_to_the_reported_limit_times_the_share() -> None:
    fake = FakeTime()
    throttle = Throttle(None, share=0.8, clock=fake.clock, sleep=fake.sleep)
    assert throttle.per_minute is None
    assert throttle.acquire() == 0.0
    throttle.observe({"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "499"})
    assert throttle.per_minute == 400
    throttle.acquire()
    assert throttle.acquire() == 60 / 400


def test_configured_rate_ignores_the_reported_limit() -> None:
    throttle = Throttle(30)
    throttle.observe({"X-RateLimit-Limit": "500"})
    assert throttle.per_minute == 30


def test_exhausted_window_pauses_everyone_until_reset() -> None:
    fake = FakeTime()
    throttle = Throttle(600, clock=fake.clock, sleep=fake.sleep)
    throttle.acquire()
    throttle.observe(
        {"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "7"}
    )
    assert throttle.acquire() == 7.0


def test_threads_share_one_pace() -> None:
    fake = FakeTime()
    throttle = Throttle(60, clock=fake.clock, sleep=lambda s: None)
    slots: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        wait = throttle.acquire()
        with lock:
            slots.append(wait)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(slots) == [float(i) for i in range(8)]

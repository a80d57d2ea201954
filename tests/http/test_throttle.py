"""The throttle paces every thread of a run and adapts to the limit Calendly reports."""

import threading

from calendly_http.throttle import Throttle, WindowPacer, scheduling_api_limits


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


# -- endpoints with limits of their own (the Scheduling API's POST /invitees) -------------------


def sends_within(fake: FakeTime, pacer: WindowPacer, count: int) -> list[float]:
    sent_at = []
    for _ in range(count):
        pacer.acquire()
        sent_at.append(fake.now)
    return sent_at


def most_in_any_stretch(sent_at: list[float], seconds: float) -> int:
    return max(sum(1 for t in sent_at if start <= t < start + seconds) for start in sent_at)


def test_paid_plans_below_enterprise_keep_every_booking_window() -> None:
    fake = FakeTime()
    windows = scheduling_api_limits("teams", "paid")
    pacer = WindowPacer(windows, clock=fake.clock, sleep=fake.sleep)
    sent_at = sends_within(fake, pacer, 120)
    assert most_in_any_stretch(sent_at, 60) == 10
    assert most_in_any_stretch(sent_at, 3600) == 50
    assert most_in_any_stretch(sent_at, 86400) == 100
    assert sent_at[9] == 0 and sent_at[10] == 60  # the 11th waits for the minute
    assert sent_at[50] == 3600  # the 51st for the hour
    assert sent_at[100] == 86400  # the 101st for the day


def test_a_trial_books_five_a_day_and_enterprise_five_hundred_a_minute() -> None:
    fake = FakeTime()
    trial = WindowPacer(scheduling_api_limits("teams", "trial"), clock=fake.clock, sleep=fake.sleep)
    assert sends_within(fake, trial, 6)[-2:] == [0, 86400]
    fake = FakeTime()
    enterprise = scheduling_api_limits("enterprise", "paid")
    pacer = WindowPacer(enterprise, clock=fake.clock, sleep=fake.sleep)
    assert sends_within(fake, pacer, 501)[-2:] == [0, 60]


def test_the_answers_headers_pause_the_endpoint_for_sends_it_cannot_see() -> None:
    fake = FakeTime()
    pacer = WindowPacer(scheduling_api_limits("teams", "paid"), clock=fake.clock, sleep=fake.sleep)
    pacer.acquire()
    pacer.observe(
        {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "42"}
    )
    assert pacer.acquire() == 42
    assert pacer.refusal_wait(1) == 60 and pacer.refusal_wait(20) == 86400

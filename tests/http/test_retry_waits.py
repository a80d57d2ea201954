"""calendly_http.retry's waits come from backoff's exponential generator, with equal jitter."""

from __future__ import annotations

import pytest

from calendly_http.retry import MAX_BACKOFF_SECONDS, RetryPolicy


@pytest.mark.parametrize("initial_wait", [0.25, 1.0, 5.0])
def test_each_retry_waits_between_half_and_all_of_a_doubling_capped_step(
    initial_wait: float,
) -> None:
    shortest = RetryPolicy(initial_wait=initial_wait, random=lambda: 0.0)
    longest = RetryPolicy(initial_wait=initial_wait, random=lambda: 1.0)
    for retry in range(1, 12):
        step = min(MAX_BACKOFF_SECONDS, initial_wait * 2 ** (retry - 1))
        assert shortest.backoff(retry) == pytest.approx(step / 2)
        assert longest.backoff(retry) == pytest.approx(step)


def test_retry_module_uses_the_backoff_library() -> None:
    import calendly_http.retry as retry

    assert retry.expo.__module__.startswith("backoff")

"""calendly_http.retry's classification of one attempt: what `CalendlyClient.send` does next."""

from __future__ import annotations

import pytest
import requests
from urllib3.exceptions import NewConnectionError

from calendly_http.retry import Verdict, classify_response, classify_transport_error


@pytest.mark.parametrize(
    ("status", "readable", "method", "verdict", "may_have_acted"),
    [
        (200, True, "POST", Verdict.OK, False),
        (204, True, "DELETE", Verdict.OK, False),
        (200, False, "GET", Verdict.RETRY, True),  # a body cut short may follow an effect
        (401, False, "GET", Verdict.CREDENTIALS_REJECTED, False),
        (429, False, "POST", Verdict.RATE_LIMITED, False),  # Calendly did not act
        (503, False, "GET", Verdict.RETRY, False),  # a read changes nothing
        (502, False, "POST", Verdict.RETRY, True),  # a proxy may answer after Calendly acted
        (404, False, "DELETE", Verdict.REFUSED, False),
        (400, False, "POST", Verdict.REFUSED, False),
    ],
)
def test_each_answer_is_classified(
    status: int, readable: bool, method: str, verdict: Verdict, may_have_acted: bool
) -> None:
    outcome = classify_response(status, readable, method)
    assert (outcome.verdict, outcome.may_have_acted) == (verdict, may_have_acted)


def test_a_connection_never_made_is_retried_as_certainly_not_processed() -> None:
    never_connected = requests.exceptions.ConnectionError(
        NewConnectionError(None, "refused")  # type: ignore[arg-type]
    )
    outcome = classify_transport_error(never_connected)
    assert (outcome.verdict, outcome.reached, outcome.may_have_acted) == (
        Verdict.RETRY,
        False,
        False,
    )


def test_a_timeout_after_sending_may_have_been_acted_on() -> None:
    outcome = classify_transport_error(requests.exceptions.ReadTimeout())
    assert (outcome.problem, outcome.reached, outcome.may_have_acted) == ("timed out", True, True)

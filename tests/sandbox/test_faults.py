"""Seeded, reproducible faults as a client sees them; latency; faults never hit /oauth/token."""

from __future__ import annotations

import threading

import pytest
import requests

from calendly_sandbox import Sandbox
from calendly_sandbox.timefmt import fmt
from tests.sandbox.spec_check import checked_session


def me(sb: Sandbox, timeout: float = 30) -> requests.Response:
    return requests.get(
        sb.base_url + "/users/me", headers={"Authorization": f"Bearer {sb.token}"}, timeout=timeout
    )


@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_errors_carry_the_spec_error_body(spec, kind):
    with Sandbox(seed=9, events=10, fault_rate=1.0, fault_kinds=(kind,)) as sb:
        with checked_session(spec, sb.token) as api:
            response = api.get(sb.base_url + "/users/me", timeout=30)
        assert response.status_code == int(kind)
        assert sb.faults_injected == [("GET", "/users/me", kind)]
        assert sb.request_log[-1].status == int(kind)


def test_bad_gateway_is_html_like_a_proxy():
    with Sandbox(seed=9, events=10, fault_rate=1.0, fault_kinds=("502",)) as sb:
        response = me(sb)
        assert response.status_code == 502
        assert response.headers["Content-Type"].startswith("text/html")


def test_reset_drops_the_connection():
    with Sandbox(seed=9, events=10, fault_rate=1.0, fault_kinds=("reset",)) as sb:
        with pytest.raises(requests.ConnectionError):
            me(sb)
        assert sb.request_log[-1].status == 0


def test_stall_outlasts_a_client_timeout_then_the_server_recovers():
    with Sandbox(seed=9, events=10, fault_rate=1.0, fault_kinds=("stall",), stall_seconds=3) as sb:
        with pytest.raises(requests.ReadTimeout):
            me(sb, timeout=0.5)
        sb.configure(fault_rate=0.0)
        assert me(sb).status_code == 200


def test_stop_interrupts_a_stall():
    sb = Sandbox(seed=9, events=10, fault_rate=1.0, fault_kinds=("stall",), stall_seconds=3600)
    sb.start()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            me(sb, timeout=600)
        except requests.RequestException as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while not sb.faults_injected:
        threading.Event().wait(0.01)
    sb.stop()
    caller.join(timeout=120)
    assert not caller.is_alive()


def test_truncated_body_after_the_side_effect():
    with Sandbox(seed=9, events=40) as sb:
        org_uuid = sb.store.organization["uri"].rsplit("/", 1)[1]
        sb.configure(fault_rate=1.0, fault_kinds=("truncate",))
        with pytest.raises(requests.RequestException):
            requests.post(
                f"{sb.base_url}/organizations/{org_uuid}/invitations",
                json={"email": "truncated@example.com"},
                headers={"Authorization": f"Bearer {sb.token}"},
                timeout=30,
            )
        emails = {i["email"] for i in sb.store.organization_invitations.values()}
        assert "truncated@example.com" in emails  # the write happened; only the answer broke


def test_error_faults_happen_before_the_side_effect():
    with Sandbox(seed=9, events=40) as sb:
        org_uuid = sb.store.organization["uri"].rsplit("/", 1)[1]
        sb.configure(fault_rate=1.0, fault_kinds=("503",))
        response = requests.post(
            f"{sb.base_url}/organizations/{org_uuid}/invitations",
            json={"email": "never@example.com"},
            headers={"Authorization": f"Bearer {sb.token}"},
            timeout=30,
        )
        assert response.status_code == 503
        emails = {i["email"] for i in sb.store.organization_invitations.values()}
        assert "never@example.com" not in emails


def fault_sequence(seed: int) -> list[tuple[str, int]]:
    kinds = ("500", "502", "503")
    with Sandbox(seed=seed, events=10, fault_rate=0.5, fault_kinds=kinds) as sb:
        return [("/users/me", me(sb).status_code) for _ in range(40)]


def test_faults_are_reproducible_for_a_seed():
    first, second = fault_sequence(21), fault_sequence(21)
    assert first == second
    statuses = {status for _, status in first}
    assert 200 in statuses
    assert statuses - {200}
    assert fault_sequence(22) != first


def test_oauth_token_endpoint_is_spared_by_default():
    with Sandbox(seed=9, events=10, fault_rate=1.0, fault_kinds=("500",)) as sb:
        response = requests.post(
            sb.base_url + "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": "sandbox-refresh-token",
                "client_id": "sandbox-client",
                "client_secret": "sandbox-secret",
            },
            timeout=30,
        )
        assert response.status_code == 200
        assert sb.faults_injected == []


def test_latency_keeps_answers_intact(own_sandbox):
    sb, api = own_sandbox(seed=9, events=10, latency_ms=20)
    assert api.get(sb.base_url + "/users/me", timeout=30).json()["resource"] == (
        sb.store.current_user
    )


def _cancel(sb: Sandbox, event_uuid: str, timeout: float = 30) -> requests.Response:
    return requests.post(
        f"{sb.base_url}/scheduled_events/{event_uuid}/cancellation",
        json={"reason": "lost answer test"},
        headers={"Authorization": f"Bearer {sb.token}"},
        timeout=timeout,
    )


def _future_active_event(sb: Sandbox) -> str:
    tomorrow = fmt(sb.clock() + 86_400)
    with sb.store.lock:
        return next(
            uuid
            for uuid, event in sorted(sb.store.scheduled_events.items())
            if event["status"] == "active" and event["start_time"] > tomorrow
        )


@pytest.mark.parametrize("kind", ["500", "502", "503", "reset", "timeout", "truncate"])
def test_a_lost_answer_comes_after_the_write_took_effect(kind):
    with Sandbox(seed=9, events=40, stall_seconds=3) as sb:
        event = _future_active_event(sb)
        sb.lose_answers(kind, path=r"/cancellation$")
        if kind in ("500", "502", "503"):
            assert _cancel(sb, event).status_code == int(kind)
        elif kind == "truncate":
            with pytest.raises(requests.exceptions.ChunkedEncodingError):
                _cancel(sb, event)
        else:
            error = requests.ReadTimeout if kind == "timeout" else requests.ConnectionError
            with pytest.raises(error):
                _cancel(sb, event, timeout=0.5)
        with sb.store.lock:
            assert sb.store.scheduled_events[event]["status"] == "canceled"
        assert sb.answers_lost == [("POST", f"/scheduled_events/{event}/cancellation", kind)]
        # One answer was lost; the next write is answered (here: already canceled).
        assert _cancel(sb, event).status_code == 403


def test_a_refused_write_keeps_its_answer_and_the_rule_waits_for_a_success():
    with Sandbox(seed=9, events=40) as sb:
        event = _future_active_event(sb)
        sb.lose_answers("502", path=r"/cancellation$", times=1)
        missing = _cancel(sb, "00000000-0000-4000-8000-000000000000")
        assert missing.status_code == 404
        assert sb.answers_lost == []
        assert _cancel(sb, event).status_code == 502
        assert me(sb).status_code == 200  # reads and other paths are untouched


def test_answer_loss_rules_reject_unknown_kinds():
    with pytest.raises(ValueError, match="answer loss kind"):
        Sandbox(seed=9, events=10).lose_answers("teapot")

"""Bad config for tap and target: a clear error naming the setting, before any request.

"Before any request" is checked where requests would land: the sandbox's request log, and for a
plain-http api_url on another host, a loopback listener reached as http://0.0.0.0 (a host the
safety check does not treat as loopback) that records whatever reaches it.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from calendly_http.retry import FIRST_CONTACT_RETRIES
from calendly_sandbox import Sandbox
from tests.reliability.harness import (
    Eavesdropper,
    Run,
    run_tap,
    run_target,
)
from tests.reliability.sandbox_view import (
    CLIENT_SECRET,
    REFRESH_TOKEN,
    TOKEN,
    oauth_settings,
    tap_config,
    target_config,
)
from tests.reliability.target_inputs import singer_input

PLUGINS = ("tap", "target")


def run_plugin(plugin: str, config: Path, sandbox: Any) -> Run:
    if plugin == "tap":
        return run_tap(config)
    with sandbox.store.lock:
        # A bare id: the run under test may point api_url elsewhere than the URI's host.
        event_type = min(t["uri"] for t in sandbox.store.event_types.values() if t["active"])
        event_type = event_type.rsplit("/", 1)[1]
    return run_target(
        config, singer_input({"create_scheduling_link": [{"event_type": event_type}]})
    )


def make_config(plugin: str, tmp_path: Path, sandbox: Any, **settings: Any) -> Path:
    if plugin == "tap":
        return tap_config(tmp_path / "config.json", sandbox, **settings)
    return target_config(
        tmp_path / "config.json", sandbox, tmp_path / "responses.jsonl", **settings
    )


COMMON_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("no-credentials", {"token": None}, "token"),
    ("token-not-a-string", {"token": 12345}, "token"),
    ("max-retries-not-a-number", {"max_retries": "many"}, "max_retries"),
    ("timeout-not-a-number", {"request_timeout": "soon"}, "request_timeout"),
    ("api-url-not-a-string", {"api_url": 42}, "api_url"),
    ("api-url-not-a-url", {"api_url": "calendly"}, "api_url"),
    ("oauth-without-secret", {**oauth_settings(None), "client_secret": None}, "client_secret"),
]
TAP_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("start-date-not-a-date", {"start_date": "last tuesday"}, "start_date"),
    ("lookback-negative", {"lookback_days": -3}, "lookback_days"),
    ("concurrency-not-a-number", {"child_concurrency": "four"}, "child_concurrency"),
]
TARGET_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("dry-run-not-a-boolean", {"dry_run": "yes please"}, "dry_run"),
    ("batch-size-zero", {"batch_size": 0}, "batch_size"),
    ("on-error-unknown", {"on_error": "ignore"}, "on_error"),
    ("stream-mapped-to-no-action", {"stream_actions": {"crm": "nuke"}}, "stream_actions"),
]
CASES = [
    pytest.param(plugin, settings, name, id=f"{plugin}-{case}")
    for plugin in PLUGINS
    for case, settings, name in COMMON_CASES
] + [
    *(pytest.param("tap", s, n, id=f"tap-{c}") for c, s, n in TAP_CASES),
    *(pytest.param("target", s, n, id=f"target-{c}") for c, s, n in TARGET_CASES),
]


@pytest.fixture
def config_sandbox(sandbox_factory: Any, tap_installed: None, target_installed: None) -> Any:
    return sandbox_factory(seed=80, events=20, token=TOKEN)


RunOnce = Callable[[str, dict[str, Any]], tuple[Run, int]]


@pytest.fixture(scope="module")
def bad_config_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunOnce]:
    """Each (plugin, settings) runs once; both tests below read the same run.

    Returns the run and how many requests reached the sandbox during it.
    """
    runs: dict[str, tuple[Run, int]] = {}
    with Sandbox(seed=80, events=20, token=TOKEN) as sandbox:

        def run_once(plugin: str, settings: dict[str, Any]) -> tuple[Run, int]:
            key = f"{plugin} {json.dumps(settings, sort_keys=True)}"
            if key not in runs:
                workdir = tmp_path_factory.mktemp("config")
                before = len(sandbox.request_log)
                run = run_plugin(plugin, make_config(plugin, workdir, sandbox, **settings), sandbox)
                runs[key] = (run, len(sandbox.request_log) - before)
            return runs[key]

        yield run_once


@pytest.mark.parametrize(("plugin", "settings", "setting"), CASES)
def test_bad_setting_is_named_before_any_request(
    bad_config_run: RunOnce, plugin: str, settings: dict[str, Any], setting: str
) -> None:
    run, requests_sent = bad_config_run(plugin, settings)

    assert run.returncode != 0, run.describe()
    assert setting in run.stderr, f"the error does not name `{setting}`\n{run.describe()}"
    assert requests_sent == 0, f"{requests_sent} request(s) reached the sandbox"
    if plugin == "tap":
        assert not run.output.records()


@pytest.mark.parametrize(("plugin", "settings", "setting"), CASES)
def test_bad_setting_error_is_a_clear_message_not_a_traceback(
    bad_config_run: RunOnce, plugin: str, settings: dict[str, Any], setting: str
) -> None:
    run, _ = bad_config_run(plugin, settings)

    assert run.returncode != 0
    assert "Traceback" not in run.stderr, run.describe()


# Misspelt settings, the safety switches included: each is named with the setting meant.
MISSPELT: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    (
        "tap",
        {"tokn": TOKEN, "lookback_dayz": 0},
        {"tokn": "token", "lookback_dayz": "lookback_days"},
    ),
    (
        "target",
        {"dry_runn": True, "allow_destructive_action": True},
        {"dry_runn": "dry_run", "allow_destructive_action": "allow_destructive_actions"},
    ),
]


@pytest.mark.parametrize(("plugin", "settings", "meant"), MISSPELT, ids=[m[0] for m in MISSPELT])
def test_a_misspelt_setting_is_refused_with_the_name_meant_before_any_request(
    bad_config_run: RunOnce, plugin: str, settings: dict[str, Any], meant: dict[str, str]
) -> None:
    run, requests_sent = bad_config_run(plugin, settings)

    assert run.returncode != 0, run.describe()
    for wrong, right in meant.items():
        assert (
            f"Setting `{wrong}` is not a setting of {plugin}-calendly: did you mean `{right}`?"
            in (run.stderr)
        ), run.describe()
    assert requests_sent == 0, f"{requests_sent} request(s) reached the sandbox"
    assert "Traceback" not in run.stderr and TOKEN not in run.stderr + run.stdout
    assert not run.output.records() if plugin == "tap" else not run.stdout.strip()


# What Meltano or a user may legitimately pass besides the plugin's own settings: the SDK's
# built-ins for each plugin's capabilities (the target's three that it leaves out of --about too).
SDK_BUILT_INS: dict[str, dict[str, Any]] = {
    "tap": {
        "flattening_enabled": False,
        "flattening_max_depth": 2,
        "stream_maps": {},
        "stream_map_config": {},
        "faker_config": {"locale": "en_US"},
    },
    "target": {
        "flattening_enabled": False,
        "stream_maps": {},
        "stream_map_config": {},
        "add_record_metadata": False,
        "load_method": "append-only",
        "batch_size_rows": 100,
    },
}


@pytest.mark.parametrize("plugin", PLUGINS)
def test_the_sdk_built_in_settings_are_accepted(
    config_sandbox: Any, tmp_path: Path, plugin: str
) -> None:
    config = make_config(plugin, tmp_path, config_sandbox, **SDK_BUILT_INS[plugin])

    run = run_plugin(plugin, config, config_sandbox)

    assert run.returncode == 0, run.describe()
    assert "is not a setting" not in run.stderr


@pytest.mark.parametrize("plugin", PLUGINS)
@pytest.mark.parametrize("url_setting", ["api_url", "oauth_token_url"])
def test_plain_http_to_another_host_is_refused_before_sending_credentials(
    config_sandbox: Any, tmp_path: Path, plugin: str, url_setting: str
) -> None:
    with Eavesdropper() as other_host:
        foreign = f"http://0.0.0.0:{other_host.port}"
        settings: dict[str, Any] = (
            {"api_url": foreign}
            if url_setting == "api_url"
            else {**oauth_settings(None), "oauth_token_url": f"{foreign}/oauth/token"}
        )
        config = make_config(plugin, tmp_path, config_sandbox, **settings)
        run = run_plugin(plugin, config, config_sandbox)

    assert run.returncode != 0, run.describe()
    assert url_setting in run.stderr and "http" in run.stderr, run.describe()
    assert other_host.connections == 0, f"credentials went to {foreign}: {other_host.received!r}"
    assert not config_sandbox.request_log
    for secret in (TOKEN, CLIENT_SECRET, REFRESH_TOKEN):
        assert secret not in run.stderr + run.stdout


@pytest.mark.parametrize("plugin", PLUGINS)
def test_fractional_settings_are_accepted(config_sandbox: Any, tmp_path: Path, plugin: str) -> None:
    """JSON numbers with a fraction reach the plugin as Decimal (singer-sdk's config loader)."""
    config = make_config(
        plugin,
        tmp_path,
        config_sandbox,
        retry_initial_wait=0.01,
        request_timeout=4.5,
        rate_limit_share=0.5,
        requests_per_minute=60000.5,
    )

    run = run_plugin(plugin, config, config_sandbox)

    assert run.returncode == 0, run.describe()


def test_config_file_that_is_not_json_is_named(tmp_path: Path, tap_installed: None) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"token": "x", ', encoding="utf-8")
    run = run_tap(config)
    assert run.returncode != 0
    assert "config" in run.stderr.lower(), run.describe()
    assert not run.output.records()


@pytest.mark.parametrize("plugin", PLUGINS)
def test_a_wrong_port_fails_after_a_few_attempts_naming_api_url(
    config_sandbox: Any, tmp_path: Path, plugin: str
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    config = make_config(plugin, tmp_path, config_sandbox, api_url=closed)

    run = run_plugin(plugin, config, config_sandbox)

    assert run.returncode != 0, run.describe()
    assert f"Setting `api_url`: cannot connect to {closed}" in run.stderr, run.describe()
    assert run.stderr.count("; retry ") == FIRST_CONTACT_RETRIES, run.describe()
    assert "Traceback" not in run.stderr


def test_a_refused_organization_lookup_is_reported_as_such(
    config_sandbox: Any, tmp_path: Path
) -> None:
    config = make_config("tap", tmp_path, config_sandbox, token="not-the-sandbox-token")

    run = run_plugin("tap", config, config_sandbox)

    assert run.returncode != 0, run.describe()
    assert "Organization lookup failed: " in run.stderr and "HTTP 401" in run.stderr
    assert "set `organization`" in run.stderr and "Traceback" not in run.stderr

"""The wheels as a Meltano user gets them: installed into a clean venv outside this repository,
then every command run from there (nothing of the checkout is on sys.path)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.distributions.conftest import CleanVenv, Wheel, clean_venv

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheels: dict[str, Wheel]) -> Iterator[CleanVenv]:
    yield clean_venv(tmp_path_factory.mktemp("user"), [str(w.path) for w in wheels.values()])


def test_nothing_of_the_checkout_is_importable(venv: CleanVenv) -> None:
    probe = "import importlib.util as u; print([m for m in ('demo', 'bench', 'scripts', 'tests') if u.find_spec(m)])"
    out = venv.run("python", "-c", probe)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("command", ["tap-calendly", "target-calendly"])
def test_version_and_about(venv: CleanVenv, command: str) -> None:
    version = venv.run(command, "--version")
    assert version.returncode == 0, version.stderr
    assert f"{command} v0." in version.stdout and "could not be detected" not in version.stdout
    about = venv.run(command, "--about", "--format", "json")
    assert about.returncode == 0, about.stderr
    info = json.loads(about.stdout)
    assert info["name"] == command
    assert info["supported_python_versions"] == [
        f"{sys.version_info.major}.{sys.version_info.minor}"
    ]


def test_receiver_names_its_extra_when_installed_without_it(venv: CleanVenv) -> None:
    """A plain install (what a tap or target venv gets) has no web stack; the receiver says so."""
    out = venv.run("calendly-webhooks", "--help")
    assert out.returncode == 1
    assert "pip install 'calendly-connectors[webhooks]'" in out.stderr, out.stderr[-2000:]


@pytest.fixture(scope="module")
def sandbox_url(venv: CleanVenv) -> Iterator[str]:
    """The installed calendly-sandbox, on a free loopback port; it prints its base URL first."""
    process = subprocess.Popen(
        [
            str(venv.bin("calendly-sandbox")),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--seed",
            "3",
            "--events",
            "8",
        ],
        cwd=venv.workdir,
        env=venv.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _config(venv: CleanVenv, url: str, **settings: object) -> Path:
    """A plugin's config: each plugin refuses the other's settings (e.g. the target's
    responses_path) as unknown, so the tap and the target get one file each."""
    path = venv.workdir / ("target-config.json" if settings else "config.json")
    shared = {"api_url": url, "token": "sandbox-token", "requests_per_minute": 6000}
    path.write_text(json.dumps({**shared, **settings}))
    return path


def test_discover_and_sync_against_the_installed_sandbox(venv: CleanVenv, sandbox_url: str) -> None:
    config = _config(venv, sandbox_url)
    discovered = venv.run("tap-calendly", "--config", str(config), "--discover")
    assert discovered.returncode == 0, discovered.stderr[-3000:]
    streams = {s["tap_stream_id"] for s in json.loads(discovered.stdout)["streams"]}
    assert {"scheduled_events", "invitees", "event_types", "users"} <= streams

    synced = venv.run("tap-calendly", "--config", str(config))
    assert synced.returncode == 0, synced.stderr[-3000:]
    messages = [json.loads(line) for line in synced.stdout.splitlines()]
    records: dict[str, list[dict[str, object]]] = {}
    for message in messages:
        if message["type"] == "RECORD":
            records.setdefault(message["stream"], []).append(message["record"])
    assert records.get("scheduled_events") and records.get("event_types"), sorted(records)
    assert messages[-1]["type"] == "STATE"

    # ...and the target writes what the tap read: a single-use link for a bookable event type.
    event_type = next(
        e["uri"] for e in records["event_types"] if e.get("active") and not e.get("deleted_at")
    )
    singer_input = "".join(
        json.dumps(m) + "\n"
        for m in (
            {
                "type": "SCHEMA",
                "stream": "create_scheduling_link",
                "schema": {"type": "object", "properties": {"event_type": {"type": "string"}}},
                "key_properties": [],
            },
            {
                "type": "RECORD",
                "stream": "create_scheduling_link",
                "record": {"event_type": event_type},
            },
        )
    )
    target_config = _config(venv, sandbox_url, responses_path=str(venv.workdir / "responses.jsonl"))
    written = venv.run("target-calendly", "--config", str(target_config), stdin=singer_input)
    assert written.returncode == 0, written.stderr[-3000:]
    (line,) = (venv.workdir / "responses.jsonl").read_text().splitlines()
    outcome = json.loads(line)
    assert outcome["outcome"] == "ok", outcome
    assert outcome["response"]["owner"] == event_type and outcome["response"]["booking_url"]

"""The token, OAuth client secret, refresh tokens and webhook signing keys never appear in logs,
errors, Singer output, the responses file or any file a plugin writes — on success and on every
failure path (401, retries exhausted, config errors, invalid records, malformed input).

Each plugin runs with its working directory set to an empty folder, so a stray file shows up too.
The config file and the refresh-token file (which must hold the token) live elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.harness import Run, files_under, leaked, run_tap, run_target
from tests.reliability.sandbox_view import (
    CLIENT_SECRET,
    REFRESH_TOKEN,
    SIGNING_KEY,
    TOKEN,
    oauth_sandbox_options,
    oauth_settings,
    tap_config,
    target_config,
)
from tests.reliability.target_inputs import record_message, schema_message, singer_input

WRONG_SECRET = "cs-SECRET-wrong-m3n4"
SECRETS = (TOKEN, CLIENT_SECRET, REFRESH_TOKEN, SIGNING_KEY, WRONG_SECRET)


class Workspace:
    def __init__(self, root: Path) -> None:
        self.private = root / "private"  # config and refresh-token file: allowed to hold secrets
        self.public = root / "run"  # the plugin's cwd: everything here is searched
        self.private.mkdir()
        self.public.mkdir()
        self.responses = self.public / "responses.jsonl"
        self.refresh_token_file = self.private / "refresh_token"

    def exposures(self, run: Run, extra_secrets: tuple[str, ...] = ()) -> list[str]:
        texts = {"stdout": run.stdout, "stderr": run.stderr}
        for path in files_under(self.public):
            texts[str(path.relative_to(self.public))] = path.read_text(errors="replace")
        return leaked((*SECRETS, *extra_secrets), texts)


def webhook(url: str = "https://hooks.example.org/calendly") -> dict[str, Any]:
    return {
        "url": url,
        "events": ["invitee.created"],
        "scope": "organization",
        "signing_key": SIGNING_KEY,
    }


Scenario = Callable[[Any, Workspace], Run]


# -- tap ------------------------------------------------------------------------------------------


def tap_ok(sandbox_factory: Any, ws: Workspace) -> Run:
    sb = sandbox_factory(seed=90, events=20, token=TOKEN)
    return run_tap(tap_config(ws.private / "c.json", sb), cwd=ws.public)


def tap_rejected_token(sandbox_factory: Any, ws: Workspace) -> Run:
    sb = sandbox_factory(seed=90, events=20, token="some-other-token")
    return run_tap(tap_config(ws.private / "c.json", sb), cwd=ws.public)


def tap_retries_exhausted(sandbox_factory: Any, ws: Workspace) -> Run:
    sb = sandbox_factory(seed=90, events=20, token=TOKEN, fault_rate=1.0, fault_kinds=("500",))
    return run_tap(tap_config(ws.private / "c.json", sb, max_retries=1), cwd=ws.public)


def tap_config_error(sandbox_factory: Any, ws: Workspace) -> Run:
    sb = sandbox_factory(seed=90, events=20, token=TOKEN)
    return run_tap(tap_config(ws.private / "c.json", sb, max_retries="many"), cwd=ws.public)


def tap_secret_of_wrong_type(sandbox_factory: Any, ws: Workspace) -> Run:
    """A list where a string belongs: schema validation must not quote the value back."""
    sb = sandbox_factory(seed=90, events=20, token=TOKEN)
    return run_tap(tap_config(ws.private / "c.json", sb, token=[TOKEN]), cwd=ws.public)


def tap_oauth_ok(sandbox_factory: Any, ws: Workspace) -> Run:
    sb = sandbox_factory(seed=90, events=20, **oauth_sandbox_options())
    config = tap_config(ws.private / "c.json", sb, **oauth_settings(ws.refresh_token_file))
    return run_tap(config, cwd=ws.public)


def tap_oauth_refused(sandbox_factory: Any, ws: Workspace) -> Run:
    sb = sandbox_factory(seed=90, events=20, **oauth_sandbox_options())
    settings = {**oauth_settings(ws.refresh_token_file), "client_secret": WRONG_SECRET}
    return run_tap(tap_config(ws.private / "c.json", sb, **settings), cwd=ws.public)


# -- target ---------------------------------------------------------------------------------------


def _target(sandbox: Any, ws: Workspace, text: str, **settings: Any) -> Run:
    config = target_config(ws.private / "c.json", sandbox, ws.responses, **settings)
    return run_target(config, text, cwd=ws.public)


def target_ok(sandbox_factory: Any, ws: Workspace) -> Run:
    sb = sandbox_factory(seed=91, events=20, token=TOKEN)
    return _target(sb, ws, singer_input({"create_webhook_subscription": [webhook()]}))


def target_dry_run(sandbox_factory: Any, ws: Workspace) -> Run:
    sb = sandbox_factory(seed=91, events=20, token=TOKEN)
    text = singer_input({"create_webhook_subscription": [webhook()]})
    return _target(sb, ws, text, dry_run=True)


def target_retries_exhausted(sandbox_factory: Any, ws: Workspace) -> Run:
    sb = sandbox_factory(seed=91, events=20, token=TOKEN, fault_rate=1.0, fault_kinds=("502",))
    text = singer_input({"create_webhook_subscription": [webhook()]})
    return _target(sb, ws, text, max_retries=1)


def target_rejected_token(sandbox_factory: Any, ws: Workspace) -> Run:
    sb = sandbox_factory(seed=91, events=20, token="some-other-token")
    return _target(sb, ws, singer_input({"create_webhook_subscription": [webhook()]}))


def target_invalid_record(sandbox_factory: Any, ws: Workspace) -> Run:
    sb = sandbox_factory(seed=91, events=20, token=TOKEN)
    text = singer_input({"create_webhook_subscription": [webhook(url="ftp://nowhere")]})
    return _target(sb, ws, text, on_error="continue")


def target_malformed_line(sandbox_factory: Any, ws: Workspace) -> Run:
    sb = sandbox_factory(seed=91, events=20, token=TOKEN)
    schema = json.dumps(schema_message("create_webhook_subscription", list(webhook())))
    torn = json.dumps(record_message("create_webhook_subscription", webhook()))[:-3]
    return _target(sb, ws, f"{schema}\n{torn}\n")


def target_record_before_schema(sandbox_factory: Any, ws: Workspace) -> Run:
    sb = sandbox_factory(seed=91, events=20, token=TOKEN)
    line = json.dumps(record_message("create_webhook_subscription", webhook()))
    return _target(sb, ws, line + "\n")


def target_secret_of_wrong_type(sandbox_factory: Any, ws: Workspace) -> Run:
    sb = sandbox_factory(seed=91, events=20, token=TOKEN)
    text = singer_input({"create_webhook_subscription": [webhook()]})
    return _target(sb, ws, text, client_secret={"value": CLIENT_SECRET})


def target_oauth_refused(sandbox_factory: Any, ws: Workspace) -> Run:
    sb = sandbox_factory(seed=91, events=20, **oauth_sandbox_options())
    settings = {**oauth_settings(ws.refresh_token_file), "client_secret": WRONG_SECRET}
    text = singer_input({"create_webhook_subscription": [webhook()]})
    return _target(sb, ws, text, **settings)


SCENARIOS: dict[str, tuple[Scenario, bool]] = {
    # name: (scenario, should it succeed?)
    "tap-ok": (tap_ok, True),
    "tap-401": (tap_rejected_token, False),
    "tap-500-exhausted": (tap_retries_exhausted, False),
    "tap-config-error": (tap_config_error, False),
    "tap-secret-of-wrong-type": (tap_secret_of_wrong_type, False),
    "tap-oauth-ok": (tap_oauth_ok, True),
    "tap-oauth-refused": (tap_oauth_refused, False),
    "target-ok": (target_ok, True),
    "target-dry-run": (target_dry_run, True),
    "target-502-exhausted": (target_retries_exhausted, False),
    "target-401": (target_rejected_token, False),
    "target-invalid-record": (target_invalid_record, False),
    "target-malformed-line": (target_malformed_line, False),
    "target-record-before-schema": (target_record_before_schema, False),
    "target-secret-of-wrong-type": (target_secret_of_wrong_type, False),
    "target-oauth-refused": (target_oauth_refused, False),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_secret_in_any_output(
    sandbox_factory: Any,
    tap_installed: None,
    target_installed: None,
    tmp_path: Path,
    name: str,
) -> None:
    scenario, succeeds = SCENARIOS[name]
    ws = Workspace(tmp_path)

    run = scenario(sandbox_factory, ws)

    assert (run.returncode == 0) == succeeds, run.describe()
    rotated = (
        (ws.refresh_token_file.read_text(encoding="utf-8").strip(),)
        if ws.refresh_token_file.exists()
        else ()
    )
    exposures = ws.exposures(run, rotated)
    assert not exposures, f"secrets exposed: {exposures}\n{run.describe()}"
    if name.startswith("target") and name != "target-record-before-schema":
        assert ws.responses.exists() or not succeeds

"""The SDK's standard target tests that mean something for a target that writes to an API,
plus Calendly-shaped `.singer` fixtures (tests/target/resources/) run through the same runner.

Left out of the SDK suite, and why:
- array_data, camelcase, camelcase_complex_schema, duplicate_records, encoded_string_data,
  no_primary_keys, optional_attributes, record_missing_fields, record_missing_required_property,
  schema_no_properties, schema_updates, pk_updates, special_chars_in_attributes: they push
  `test_*` streams of arbitrary columns, which name no Calendly action (the target rightly stops
  at their SCHEMA), and what they check (column types, renames, upserts, schema evolution of a
  table) does not exist for a target whose output is API calls. Their input-shape concerns are
  covered by test_units.py (types, formats, coercion) and test_behaviour.py (bad input).
- multiple_state_messages: disabled in the SDK itself; test_behaviour.py checks that STATE is
  relayed once every record before it has an outcome.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.suites import SingerTestSuite
from singer_sdk.testing.target_tests import (
    TargetCliPrintsTest,
    TargetInvalidSchemaTest,
    TargetRecordBeforeSchemaTest,
    TargetRecordMissingKeyProperty,
)
from singer_sdk.testing.templates import TargetFileTestTemplate

from calendly_sandbox import Sandbox
from target_calendly.executor import RecordFailedError
from target_calendly.outcomes import REDACTED
from target_calendly.target import TargetCalendly
from tests.target.helpers import TOKEN, read_lines

RESOURCES = Path(__file__).parent / "resources"

# The runner keeps a reference to this dict: the fixture below points it at a live sandbox and a
# fresh responses file before each test.
CONFIG: dict[str, Any] = {
    "token": TOKEN,
    "api_url": "http://127.0.0.1:9",
    "responses_path": "unset",
    "allow_destructive_actions": True,
    "stream_actions": {
        "crm_new_hires": "invite_user",
        "test_record_missing_key_property": "invite_user",
    },
}


class CalendlyFileTest(TargetFileTestTemplate):
    @property
    def singer_filepath(self) -> Path:  # type: ignore[override]
        return RESOURCES / f"{self.name}.singer"

    @property
    def lines(self) -> list[dict[str, Any]]:
        return read_lines(Path(CONFIG["responses_path"]))

    @property
    def sandbox(self) -> Sandbox:
        sandbox: Sandbox = self.resource
        return sandbox


class CalendlyReverseEtlTest(CalendlyFileTest):
    """Mapped and action-named streams; every record ok, effects in the sandbox, state relayed."""

    name = "calendly_reverse_etl"

    def validate(self) -> None:
        assert [line["outcome"] for line in self.lines] == ["ok"] * 6
        store = self.sandbox.store
        invited = {i["email"] for i in store.organization_invitations.values()}
        assert {"ada@example.com", "grace@example.com"} <= invited
        hooks = [h["callback_url"] for h in store.webhook_subscriptions.values()]
        assert "https://crm.example.com/calendly" in hooks
        erasure_posts = [
            e for e in self.sandbox.request_log if e.path == "/data_compliance/deletion/invitees"
        ]
        assert len(erasure_posts) == 1
        webhook_line = next(x for x in self.lines if x["action"] == "create_webhook_subscription")
        assert webhook_line["input"]["signing_key"] == REDACTED
        assert self.runner.state_messages[-1] == {
            "bookmarks": {
                "crm_new_hires": {"replication_key_value": "E-2"},
                "erasures": {"replication_key_value": 3},
            }
        }


class CalendlyInvalidRecordsTest(CalendlyFileTest):
    """on_error=fail: the first invalid record gets its line, then the run stops unsent."""

    name = "calendly_invalid_records"

    def test(self) -> None:
        with pytest.raises(RecordFailedError, match="field 'email' must be an email address"):
            self.runner.sync_all()

    def validate(self) -> None:
        (line,) = self.lines
        assert line["outcome"] == "failed"
        assert line["error"]["title"] == "Invalid record"
        assert self.runner.state_messages == []
        assert list(self.sandbox.request_log) == []


_SdkSuite = get_target_test_class(
    TargetCalendly,
    config=CONFIG,
    include_target_tests=False,
    parse_env_config=False,
    custom_suites=[
        SingerTestSuite(
            kind="target",
            tests=[
                TargetCliPrintsTest,
                TargetRecordBeforeSchemaTest,
                TargetRecordMissingKeyProperty,
                TargetInvalidSchemaTest,
                CalendlyReverseEtlTest,
                CalendlyInvalidRecordsTest,
            ],
        )
    ],
)


class TestTargetCalendly(_SdkSuite):  # type: ignore[misc,valid-type]
    @pytest.fixture
    def resource(self, tmp_path: Path) -> Iterator[Sandbox]:
        with Sandbox(seed=1, events=20, plan="enterprise") as sb:
            CONFIG["api_url"] = sb.base_url
            CONFIG["responses_path"] = str(tmp_path / "responses.jsonl")
            yield sb

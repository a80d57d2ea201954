"""Contract tests for calendly_plugin.sdk_compat: each singer-sdk internal the plugins rely on,
pinned against the installed SDK with a minimal tap, target and sink of its own (not ours), so
an SDK upgrade that changes one fails here, naming it, instead of breaking a sync silently."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import logging
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from singer_sdk import Sink, Stream, Tap, Target
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, RecordsWithoutSchemaException
from singer_sdk.singerlib.exceptions import InvalidInputLine

from calendly_plugin import sdk_compat

ROOT = Path(__file__).resolve().parents[2]
ROWS = [
    {"id": 1, "updated_at": "2024-01-01T00:00:00Z"},
    {"id": 2, "updated_at": "2024-01-02T00:00:00Z"},
]


class Rows(Stream):
    name = "rows"
    primary_keys = ("id",)
    replication_key = "updated_at"
    schema = th.PropertiesList(
        th.Property("id", th.IntegerType), th.Property("updated_at", th.DateTimeType)
    ).to_dict()

    def get_records(self, context: Any) -> Any:
        yield from ROWS


class OncePerRunRows(sdk_compat.SchemaOncePerRun, Rows):
    name = "once_rows"


class ProgressFromLaterRows(sdk_compat.ProgressFromRow, Rows):
    """Advances its progress marker by a shifted value, and not at all for row 2."""

    name = "progress_rows"

    def progress_value(self, record: Any) -> Any:
        return None if record["id"] == 2 else "2024-06-01T00:00:00Z"


class ContractTap(Tap):
    name = "tap-contract"
    config_jsonschema = th.PropertiesList(
        th.Property("token", th.StringType, required=True)
    ).to_dict()

    def discover_streams(self) -> list[Stream]:
        return [Rows(self), OncePerRunRows(self), ProgressFromLaterRows(self)]


def messages(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_stream_keeps_its_tap_as_private_tap() -> None:
    tap = ContractTap(config={"token": "t"}, parse_env_config=False)
    assert sdk_compat.tap_of(tap.streams["rows"]) is tap


def test_write_state_now_writes_one_state_message_with_the_streams_state() -> None:
    tap = ContractTap(config={"token": "t"}, parse_env_config=False)
    stream = tap.streams["rows"]
    stream.stream_state["marker"] = "here"
    out = io.StringIO()
    with redirect_stdout(out):
        sdk_compat.write_state_now(stream)
    (state,) = messages(out.getvalue())
    assert state["type"] == "STATE"
    assert state["value"]["bookmarks"]["rows"]["marker"] == "here"


def test_sync_writes_schema_each_time_unless_once_per_run() -> None:
    """The SDK sends SCHEMA from _write_schema_message on every sync(); the mixin stops repeats."""
    tap = ContractTap(config={"token": "t"}, parse_env_config=False)
    out = io.StringIO()
    with redirect_stdout(out):
        for name in ("rows", "once_rows"):
            for _ in range(2):
                tap.streams[name].sync()
    schemas = [m["stream"] for m in messages(out.getvalue()) if m["type"] == "SCHEMA"]
    assert schemas.count("rows") == 2
    assert schemas.count("once_rows") == 1


def test_progress_marker_round_trips_through_the_sdks_state_helpers() -> None:
    state: dict[str, Any] = {}
    sdk_compat.seed_progress_marker(state, "updated_at", "2024-01-02T00:00:00Z")
    assert sdk_compat.progress_marker(state) == "2024-01-02T00:00:00Z"
    sdk_compat.seed_progress_marker(state, "updated_at", "2024-01-01T00:00:00Z")  # older: kept
    assert sdk_compat.progress_marker(state) == "2024-01-02T00:00:00Z"
    assert sdk_compat.progress_marker({}) is None


def test_an_unsorted_stream_logs_the_notice_that_the_filter_drops_and_only_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The SDK logs UNSORTED_STREAM_NOTICE, word for word, on its "singer_sdk" logger."""
    tap = ContractTap(config={"token": "t"}, parse_env_config=False)
    sdk_logger = logging.getLogger("singer_sdk")
    filters = list(sdk_logger.filters)
    sdk_logger.filters[:] = []  # a TapCalendly made earlier in this session installed the filter
    try:
        for quiet in (False, True):
            if quiet:
                sdk_compat.quiet_unsorted_stream_notice()
            caplog.clear()
            stream = tap.streams["rows"]
            stream.stream_state.clear()
            with redirect_stdout(io.StringIO()):
                stream.sync()
                sdk_logger.warning("another warning")
            logged = [r.getMessage() for r in caplog.records if r.name == "singer_sdk"]
            assert (sdk_compat.UNSORTED_STREAM_NOTICE in logged) is not quiet
            assert "another warning" in logged
    finally:
        sdk_logger.filters[:] = filters


class HookedTap(sdk_compat.ConfigValidationHook, ContractTap):
    seen: list[tuple[str, dict[str, Any]]] = []

    def on_invalid_config(self, error: ConfigValidationError, config: Any) -> ConfigValidationError:
        self.seen.append((str(error), dict(config)))
        return ConfigValidationError("rewritten", errors=["rewritten"], schema=error.schema)


def test_the_progress_marker_advances_by_the_value_the_stream_names() -> None:
    """Stream._increment_stream_state is where sync() hands each emitted record to the
    state: the hook's value (not the record's field) lands in the bookmark, None skips."""
    tap = ContractTap(config={"token": "t"}, parse_env_config=False)
    stream = tap.streams["progress_rows"]
    with redirect_stdout(io.StringIO()):
        stream.sync()
    assert stream.stream_state["replication_key_value"] == "2024-06-01T00:00:00Z"


def test_config_validation_errors_pass_through_the_hook_with_the_raw_config() -> None:
    with pytest.raises(ConfigValidationError, match="rewritten"):
        HookedTap(config={"token": ["not", "a", "string"]}, parse_env_config=False)
    ((_, config),) = HookedTap.seen
    assert config == {"token": ["not", "a", "string"]}


class CollectingSink(Sink):
    received: list[dict[str, Any]] = []

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        self.received.append(record)

    def process_batch(self, context: dict[str, Any]) -> None:
        return None


class UncheckedSink(sdk_compat.SdkRecordChecksOff, CollectingSink):
    received: list[dict[str, Any]] = []


class ContractTarget(sdk_compat.TargetMessageHooks, Target):
    name = "target-contract"
    config_jsonschema = th.PropertiesList(th.Property("x", th.StringType)).to_dict()
    default_sink_class = CollectingSink
    states: list[Any] = []
    early: list[dict[str, Any]] = []

    def on_state_message(self, value: Any) -> None:
        self.states.append(value)

    def on_record_before_schema(self, message: dict[str, Any], error: Exception) -> None:
        self.early.append(message)


def listen(target: Target, *lines: dict[str, Any]) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        target.listen(io.StringIO("".join(json.dumps(m) + "\n" for m in lines)))
    return out.getvalue()


SCHEMA = {
    "type": "SCHEMA",
    "stream": "s",
    "schema": {"type": "object", "properties": {"n": {"type": "integer"}}},
    "key_properties": ["n"],
}


def test_state_messages_reach_the_hook_not_the_sdks_buffer() -> None:
    target = ContractTarget(config={}, parse_env_config=False)
    out = listen(target, SCHEMA, {"type": "STATE", "value": {"a": 1}})
    assert target.states == [{"a": 1}]
    assert '"STATE"' not in out  # the SDK did not emit it at the end: the hook owns STATE


def test_a_state_message_without_value_is_refused_by_the_sdks_line_check() -> None:
    target = ContractTarget(config={}, parse_env_config=False)
    with pytest.raises(InvalidInputLine):
        listen(target, {"type": "STATE"})


def test_a_record_before_its_schema_reaches_the_hook_then_stops_the_run() -> None:
    target = ContractTarget(config={}, parse_env_config=False)
    record = {"type": "RECORD", "stream": "nope", "record": {"n": 1}}
    with pytest.raises(RecordsWithoutSchemaException):
        listen(target, record)
    assert target.early == [record]


def test_state_writer_writes_a_state_line() -> None:
    target = ContractTarget(config={}, parse_env_config=False)
    out = io.StringIO()
    with redirect_stdout(out):
        sdk_compat.state_writer(target)({"b": 2})
    assert messages(out.getvalue()) == [{"b": 2}]  # a target prints the bare state value


@pytest.mark.parametrize(
    ("sink", "reaches_the_sink"), [(CollectingSink, False), (UncheckedSink, True)]
)
def test_sdk_record_checks_are_the_private_validate_hooks(
    sink: type[CollectingSink], reaches_the_sink: bool
) -> None:
    """A record the schema refuses: the SDK's checks stop it unless SdkRecordChecksOff is on."""
    ContractTarget.default_sink_class = sink
    try:
        target = ContractTarget(config={}, parse_env_config=False)
        bad = {"type": "RECORD", "stream": "s", "record": {"n": "not an integer"}}
        with contextlib.suppress(Exception):  # the SDK's validation error, whatever its type
            listen(target, SCHEMA, bad)
    finally:
        ContractTarget.default_sink_class = CollectingSink
    assert (bad["record"] in sink.received) is reaches_the_sink


# -- nowhere else ---------------------------------------------------------------------------------

SDK_CLASSES = (Tap, Target, Stream, Sink)


def _sdk_private_names() -> set[str]:
    from singer_sdk.streams import RESTStream

    return {
        name
        for cls in (*SDK_CLASSES, RESTStream)
        for name in dir(cls)
        if name.startswith("_") and not name.startswith("__")
    }


def test_no_sdk_internal_is_used_outside_sdk_compat() -> None:
    """Outside calendly_plugin/sdk_compat.py: no import from a private singer_sdk module, and no
    SDK-private attribute read or overridden unless our own code assigns it (our own state)."""
    private = _sdk_private_names() - {"_abc_impl"}
    offenders = []
    for package in (
        "calendly_http",
        "calendly_plugin",
        "calendly_webhooks",
        "tap_calendly",
        "target_calendly",
    ):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "sdk_compat.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            assigned = {
                target.attr
                for node in ast.walk(tree)
                if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign)
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(target, ast.Attribute)
            } | {
                target.id
                for node in ast.walk(tree)
                if isinstance(node, ast.AnnAssign | ast.Assign)
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(target, ast.Name)
            }
            for node in ast.walk(tree):
                where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
                if (
                    isinstance(node, ast.ImportFrom)
                    and node.module
                    and node.module.startswith("singer_sdk")
                ):
                    if any(part.startswith("_") for part in node.module.split(".")):
                        offenders.append(f"{where} imports {node.module}")
                elif isinstance(node, ast.Attribute) and node.attr in private - assigned:
                    offenders.append(f"{where} uses {node.attr}")
                elif isinstance(node, ast.FunctionDef) and node.name in private:
                    offenders.append(f"{where} overrides {node.name}")
    assert not offenders, offenders

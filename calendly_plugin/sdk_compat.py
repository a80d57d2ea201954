"""Every use of singer-sdk internals (private names, undocumented behaviour), in one module.

The tap and the target call what is here and touch nothing private of the SDK themselves, so an
SDK upgrade that changes one of these is fixed here, once. tests/sdk_contract pins each
assumption against the installed SDK and fails naming it when the SDK changes under us; a test
there also fails when SDK-private names appear anywhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from singer_sdk import Stream, Tap, Target
from singer_sdk.exceptions import ConfigValidationError, RecordsWithoutSchemaException
from singer_sdk.helpers._state import PROGRESS_MARKERS, increment_state

# -- streams --------------------------------------------------------------------------------------


def tap_of(stream: Stream) -> Tap:
    """The tap a stream belongs to (the SDK keeps it only as the private `_tap`)."""
    tap: Tap = stream._tap
    return tap


def write_state_now(stream: Stream) -> None:
    """Write a STATE message with the stream's current state now, not when the SDK would next."""
    stream.state_manager.is_flushed = False
    stream._write_state_message()


class SchemaOncePerRun:
    """For a stream whose `sync()` runs many times in one run (once per batch of parents):
    one SCHEMA message per run, not one per sync. Loaders such as target-duckdb flush the stream
    and re-sync its table on every SCHEMA message they receive.

    Overrides the private Stream._write_schema_message, which sync() calls each time.
    Put it before the stream's SDK base class.
    """

    _schema_sent = False

    def _write_schema_message(self) -> None:
        if not self._schema_sent:
            super()._write_schema_message()  # type: ignore[misc]
            self._schema_sent = True


class ProgressFromRow:
    """Lets a stream say which value of an emitted record advances its progress marker:
    `progress_value(record)` (None: this record does not advance it). The SDK takes the
    record's replication-key field, in the private Stream._increment_stream_state.
    Put it before the stream's SDK base class.
    """

    def progress_value(self, record: Mapping[str, Any]) -> Any:
        key = getattr(self, "replication_key", None)
        return record.get(key) if key else None

    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Mapping[str, Any] | None = None
    ) -> None:
        key = getattr(self, "replication_key", None)
        if key:
            value = self.progress_value(latest_record)
            if value is None:
                return
            latest_record = {**latest_record, key: value}
        super()._increment_stream_state(latest_record, context=context)  # type: ignore[misc]


def progress_marker(stream_state: Mapping[str, Any]) -> str | None:
    """The largest replication-key value this run has emitted (the SDK's progress marker)."""
    value = stream_state.get(PROGRESS_MARKERS, {}).get("replication_key_value")
    return None if value is None else str(value)


def seed_progress_marker(stream_state: dict[str, Any], replication_key: str, value: str) -> None:
    """Start this run's progress marker at `value`, as the SDK does for an unsorted stream."""
    increment_state(
        stream_state,
        latest_record={replication_key: value},
        replication_key=replication_key,
        is_sorted=False,
        check_sorted=True,
    )


# The SDK's warning, on its "singer_sdk" logger, each time an unsorted incremental stream (or
# partition) starts its progress marker: 17 times in a full tap run.
UNSORTED_STREAM_NOTICE = (
    "Stream is assumed to be unsorted, progress is not resumable if interrupted"
)


class _WithoutUnsortedStreamNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != UNSORTED_STREAM_NOTICE


def quiet_unsorted_stream_notice() -> None:
    """Drop UNSORTED_STREAM_NOTICE (only it) from the SDK's log.

    For a stream whose bookmark advances only when it completes, by design, the notice is true
    and not actionable; the state still says so (the SDK's `progress_markers` note).
    """
    sdk_logger = logging.getLogger("singer_sdk")
    if not any(isinstance(f, _WithoutUnsortedStreamNotice) for f in sdk_logger.filters):
        sdk_logger.addFilter(_WithoutUnsortedStreamNotice())


# -- both plugins ---------------------------------------------------------------------------------


class ConfigValidationHook:
    """Lets a plugin rewrite the error of a config that fails its JSON schema.

    PluginBase._validate_config (private) is where that error is raised; `on_invalid_config`
    gets it and the raw config as given (the private `_config`). Put it first among the bases.
    """

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        try:
            return super()._validate_config(raise_errors=raise_errors)  # type: ignore[misc]
        except ConfigValidationError as exc:
            raise self.on_invalid_config(exc, getattr(self, "_config", {})) from None

    def on_invalid_config(
        self, error: ConfigValidationError, config: Mapping[str, Any]
    ) -> ConfigValidationError:
        return error


# -- target ---------------------------------------------------------------------------------------


class TargetMessageHooks:
    """The target's say on two Singer messages, through the private Target methods that
    handle them: a RECORD before its SCHEMA (`on_record_before_schema`, then the SDK's error
    stops the run) and every STATE (`on_state_message` instead of the SDK's buffering).
    Put it before Target among the bases.
    """

    def _process_record_message(self, message_dict: dict[str, Any]) -> None:
        try:
            super()._process_record_message(message_dict)  # type: ignore[misc]
        except RecordsWithoutSchemaException as exc:
            self.on_record_before_schema(message_dict, exc)
            raise

    def _process_state_message(self, message_dict: dict[str, Any]) -> None:
        self._assert_line_requires(message_dict, requires={"value"})  # type: ignore[attr-defined]
        self.on_state_message(message_dict["value"])

    def on_record_before_schema(self, message: dict[str, Any], error: Exception) -> None:
        return None

    def on_state_message(self, value: Any) -> None:
        raise NotImplementedError


def state_writer(target: Target) -> Callable[[dict[str, Any]], None]:
    """What writes one STATE message to stdout (the private Target._write_state_message)."""
    write: Callable[[dict[str, Any]], None] = target._write_state_message
    return write


class SdkRecordChecksOff:
    """Switches off the SDK's own per-record checks in a sink (the private
    Sink._validate_and_parse and Sink._singer_validate_message), for a sink that validates
    each record itself: the SDK's check raises without giving the record an outcome, and its
    timestamp repair turns an invalid date into 9999-12-31. Put it before Sink among the bases.
    """

    def _validate_and_parse(self, record: dict[str, Any]) -> dict[str, Any]:
        return record

    def _singer_validate_message(self, record: dict[str, Any]) -> None:
        return None

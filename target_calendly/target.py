"""target-calendly: each input record becomes one Calendly write (reverse ETL).

A stream's name selects its action (`cancel_event`, `invite_user`, ...); `stream_actions` maps any
other stream name to one. Every record gets exactly one line in the responses file; stdout carries
nothing but Singer STATE (Meltano stores every stdout line as state).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, ClassVar

from singer_sdk import typing as th
from singer_sdk.exceptions import RecordsWithoutSchemaException
from singer_sdk.helpers.capabilities import CapabilitiesEnum, PluginCapabilities
from singer_sdk.io_base import SingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine
from singer_sdk.singerlib.json import deserialize_json
from singer_sdk.target_base import Target

from calendly_http import CalendlyClient, ClientSettings, ConfigError
from calendly_plugin.plugin import CalendlyPlugin
from calendly_plugin.sdk_compat import TargetMessageHooks, state_writer
from calendly_plugin.settings import SHARED_SETTINGS
from target_calendly.action import Action, DestructiveGuard
from target_calendly.actions import ACTIONS, action_names
from target_calendly.checkpoints import StateGate
from target_calendly.executor import Executor, RecordFailedError
from target_calendly.outcomes import OutcomeLine, OutcomeWriter
from target_calendly.sinks import ActionSink, UnroutedSink

DEFAULT_RESPONSES_PATH = "calendly_responses.jsonl"
DEFAULT_GDPR_DELETION_BATCH_SIZE = 100
ACTIONS_DOC = "docs/actions.md"


class UnknownStreamError(ValueError):
    """A stream that names no action and is not mapped in `stream_actions`."""


class DestructiveActionRefusedError(RuntimeError):
    """A destructive action without `allow_destructive_actions: true`; raised before any request."""


class RunFailedError(RuntimeError):
    """With `on_error: continue`, the run went to the end but some records failed."""


class _LineCountingReader(SingerReader):
    """Names the input line at fault, and never echoes a line (it may hold a signing_key).

    Whatever stops the reading (a malformed line, an unknown stream, a failed record) is first
    handed to `on_stop`, so every record read so far can get its outcome line."""

    def __init__(self) -> None:
        super().__init__()
        self.line_number = 0
        self.on_stop: Callable[[BaseException], None] | None = None

    def process_lines(
        self, file_input: IO[str] | None, callbacks: dict[str, Callable[[dict[str, Any]], None]]
    ) -> Counter[str]:
        try:
            return super().process_lines(file_input, callbacks)
        except BaseException as exc:
            if self.on_stop is not None:
                self.on_stop(exc)
            raise

    def deserialize_json(self, line: str) -> dict[str, Any]:
        self.line_number += 1
        try:
            return deserialize_json(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputLine(
                f"Input line {self.line_number} is not valid JSON ({exc.msg}, column {exc.colno}). "
                "The run stops here; every record before it has its line in the responses file."
            ) from None

    def assert_line_requires(self, line_dict: dict[str, Any], requires: set[str]) -> None:  # type: ignore[override]
        missing = sorted(requires - set(line_dict))
        if missing:
            raise InvalidInputLine(
                f"Input line {self.line_number} ({line_dict.get('type', 'no type')}) is missing "
                f"the key(s): {', '.join(missing)}"
            )


TARGET_SETTINGS = (
    th.Property(
        "responses_path",
        th.StringType,
        default=DEFAULT_RESPONSES_PATH,
        description="JSON Lines file that gets one line per input record (stream, action, input, "
        "outcome, http_status, response, error, reason). Appended to across runs: a record of "
        f"a creating action ({ACTIONS_DOC}: ledger) it already shows as finished is not sent "
        "again (its replay gets a 'skipped' line); an `idempotency_key` column marks a new "
        "intent.",
    ),
    th.Property(
        "webhook_signing_key_file",
        th.StringType,
        description="Key file of calendly-webhooks (its --signing-key-file). "
        "Creating a webhook subscription appends its signing key to it (created "
        "0600) before creating it, generating a strong key when the record has none; without "
        "this setting a record must carry its own signing_key. Keys never reach logs or the "
        "responses file (its line names the file and a fingerprint).",
    ),
    th.Property(
        "dry_run",
        th.BooleanType,
        default=False,
        description="Validate and resolve (lookups are reads) but send no write; every record gets "
        "a dry_run line showing the request it would send.",
    ),
    th.Property(
        "gdpr_deletion_batch_size",
        th.IntegerType(minimum=1),
        title="GDPR deletion batch size",
        # No schema default: the SDK would fill it in, hiding whether the old name was set.
        description="Emails per GDPR invitee-data deletion request (the one batched action, "
        f"{ACTIONS_DOC}); {DEFAULT_GDPR_DELETION_BATCH_SIZE} when not set.",
    ),
    th.Property(
        "batch_size",
        th.IntegerType(minimum=1),
        description="Deprecated: the former name of gdpr_deletion_batch_size, still accepted.",
    ),
    th.Property(
        "stream_actions",
        th.ObjectType(additional_properties=th.StringType),
        description='Maps input stream names to actions, e.g. {"crm_churned": "remove_user"}. '
        f"A stream not listed here must be named after its action (actions: {ACTIONS_DOC}).",
    ),
    th.Property(
        "allow_destructive_actions",
        th.BooleanType,
        default=False,
        description=f"Must be true to send destructive actions and records ({ACTIONS_DOC}; "
        "dry runs excepted).",
    ),
    th.Property(
        "on_error",
        th.StringType,
        default="fail",
        allowed_values=["fail", "continue"],
        description="fail: stop at the first failed record (after writing its line). continue: go "
        "on, and exit non-zero at the end if any record failed.",
    ),
)


def _unknown_stream(stream_name: str) -> UnknownStreamError:
    return UnknownStreamError(
        f"Stream '{stream_name}' selects no action: name the stream after an action or map "
        f"it in the `stream_actions` setting. Actions: {action_names()}"
    )


def _gdpr_deletion_batch_size(config: Mapping[str, Any]) -> int:
    """The setting, or its deprecated name `batch_size` (not both, unless they agree)."""
    size = config.get("gdpr_deletion_batch_size")
    alias = config.get("batch_size")
    if size is not None and alias is not None and size != alias:
        raise ConfigError(
            "batch_size",
            f"is the deprecated name of gdpr_deletion_batch_size, which is set to {size}: "
            "remove batch_size",
        )
    return int(size or alias or DEFAULT_GDPR_DELETION_BATCH_SIZE)


def _may_create(action_name: str) -> bool:
    action = ACTIONS.get(action_name)
    return action is not None and action.may_create


class TargetCalendly(CalendlyPlugin, TargetMessageHooks, Target):
    """Singer target for Calendly: each input record becomes one Calendly write (reverse ETL)."""

    name = "target-calendly"
    config_jsonschema = th.PropertiesList(*SHARED_SETTINGS, *TARGET_SETTINGS).to_dict()
    default_sink_class = ActionSink
    # No `validate-records`: the action's input spec always validates (see ActionSink).
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        # Not structured-logging: Meltano's console would show METRIC lines without their stream.
    ]
    message_reader_class = _LineCountingReader
    # Stops that end the CLI with one clear line and exit code 1 (no traceback).
    expected_stops = (
        *CalendlyPlugin.expected_stops,
        RecordFailedError,
        RunFailedError,
        DestructiveActionRefusedError,
        UnknownStreamError,
        InvalidInputLine,
        RecordsWithoutSchemaException,
    )
    # Settings every SDK target gets that mean nothing for an API writer (no table to load into,
    # no batch size: each record is one write), so they are not offered (`--about`, meltano.yml).
    sdk_settings_not_offered: ClassVar[tuple[str, ...]] = (
        "add_record_metadata",
        "load_method",
        "batch_size_rows",
    )

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict[str, Any]) -> None:
        super().append_builtin_config(config_jsonschema)
        for name in cls.sdk_settings_not_offered:
            config_jsonschema["properties"].pop(name, None)

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: Any,
    ) -> None:
        """`clock` and `sleep` pace and wait (tests pass a fake pair so no wait is real)."""
        super().__init__(**kwargs)
        self.client_settings = ClientSettings.from_config(self.config)
        self.stream_actions: dict[str, str] = dict(self.config.get("stream_actions") or {})
        self.dry_run = bool(self.config.get("dry_run", False))
        self.gdpr_deletion_batch_size = _gdpr_deletion_batch_size(self.config)
        self.destructive_guard = DestructiveGuard.from_config(self.config)
        for stream, action_name in self.stream_actions.items():
            if action_name not in ACTIONS:
                raise ConfigError(
                    "stream_actions",
                    f"stream '{stream}' is mapped to '{action_name}', which is not an action. "
                    f"Actions: {action_names()}",
                )
            self._refuse_if_destructive(stream, ACTIONS[action_name])
        self.client = CalendlyClient(
            self.client_settings, logger=self.logger, clock=clock, sleep=sleep
        )
        path = Path(self.config.get("responses_path") or DEFAULT_RESPONSES_PATH)
        try:
            self.writer = OutcomeWriter(path, self.logger, guarded=_may_create)
        except OSError as exc:
            raise ConfigError("responses_path", f"cannot write {path}: {exc.strerror}") from None
        self.gate = StateGate(state_writer(self))
        key_file = self.config.get("webhook_signing_key_file")
        self.executor = Executor(
            self.client,
            self.writer,
            self.gate,
            dry_run=self.dry_run,
            stop_on_error=self.config.get("on_error", "fail") != "continue",
            logger=self.logger,
            guard=self.destructive_guard,
            signing_key_file=Path(key_file).expanduser() if key_file else None,
        )
        if isinstance(self.message_reader, _LineCountingReader):
            self.message_reader.on_stop = self.executor.stopped
        if len(self.writer.ledger):
            self.logger.info(
                "%s already holds %d finished create(s); a replay of one is not sent again "
                "(it gets a 'skipped' line pointing at the earlier one).",
                path,
                len(self.writer.ledger),
            )

    # -- routing ------------------------------------------------------------------------------

    def action_for(self, stream_name: str) -> Action:
        action = self._routed(stream_name)
        if action is None:
            raise _unknown_stream(stream_name)
        return action

    def _routed(self, stream_name: str) -> Action | None:
        return ACTIONS.get(self.stream_actions.get(stream_name, stream_name))

    def get_sink_class(self, stream_name: str) -> type[ActionSink | UnroutedSink]:
        """A stream without an action stops the run at its first record (which gets its
        `not_attempted` line), not at its SCHEMA, where no record of it has been read."""
        action = self._routed(stream_name)
        if action is None:
            return UnroutedSink
        self._refuse_if_destructive(stream_name, action)
        return ActionSink

    def refuse_unrouted(self, stream_name: str, record: dict[str, Any]) -> None:
        """A record of a stream without an action: its line, then the run stops."""
        error = _unknown_stream(stream_name)
        self.executor.not_attempted(stream_name, record, reason=str(error))
        raise error

    def _refuse_if_destructive(self, stream_name: str, action: Action) -> None:
        refusal = self.destructive_guard.refusal(action)
        if refusal:
            raise DestructiveActionRefusedError(
                f"Stream '{stream_name}': {refusal}. Refusing to start: nothing was sent."
            )

    # -- messages -----------------------------------------------------------------------------

    def on_record_before_schema(self, message: dict[str, Any], error: Exception) -> None:
        stream = str(message.get("stream"))
        action = self._routed(stream)
        record = message.get("record")
        self.executor.failures[stream] += 1
        self.writer.write(
            OutcomeLine(
                stream=stream,
                action=action.name if action else None,
                input=record if isinstance(record, dict) else {},
                outcome="failed",
                error={"title": "Record before schema", "message": str(error)},
            )
        )

    def on_state_message(self, value: Any) -> None:
        self.gate.state_arrived(value)

    def process_endofpipe(self) -> None:
        try:
            super().process_endofpipe()  # sends the batches still waiting
        except BaseException as exc:
            self.executor.stopped(exc)
            raise
        self.writer.close()
        counts = dict(self.writer.counts)
        self.logger.info(
            "Outcomes: %s; %d record(s) done in earlier runs; %d request(s) sent. Responses: %s",
            counts or "none",
            self.executor.done_before,
            self.client.stats.requests,
            self.writer.path,
        )
        problems = []
        for outcome, counts in (
            ("failed", self.executor.failures),
            ("unknown", self.executor.unknowns),
        ):
            if counts:
                where = ", ".join(f"{stream}: {n}" for stream, n in sorted(counts.items()))
                problems.append(f"{sum(counts.values())} record(s) {outcome} ({where})")
        if problems:
            raise RunFailedError(
                f"{'; '.join(problems)}. Each has a line saying why in {self.writer.path}."
            )


if __name__ == "__main__":
    TargetCalendly.cli()

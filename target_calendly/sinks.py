"""One sink class for every action; the action table decides what it sends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from singer_sdk.sinks import Sink

from calendly_plugin.sdk_compat import SdkRecordChecksOff
from target_calendly.actions import Action
from target_calendly.executor import Executor, Item

if TYPE_CHECKING:
    from target_calendly.target import TargetCalendly


class ActionSink(SdkRecordChecksOff, Sink):
    """Single-record actions are sent inside `process_record`, so their outcome line exists
    before the next message is read; batchable actions (GDPR email deletion) collect validated
    records and send one request per `gdpr_deletion_batch_size` records when the SDK drains the sink.

    The action's input spec is the validator (executor.admit), not the SDK's checks: the
    stream's SCHEMA describes the source, not what Calendly accepts, and missing key properties
    are checked there too, so every record gets its outcome line.
    """

    def __init__(
        self,
        target: TargetCalendly,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.action: Action = target.action_for(stream_name)
        self.executor: Executor = target.executor
        self._batch_size: int = target.gdpr_deletion_batch_size
        self._waiting: list[Item] = []

    @property
    def current_size(self) -> int:
        return len(self._waiting)

    @property
    def max_size(self) -> int:
        return self._batch_size

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        item = self.executor.admit(self.action, self.stream_name, record, list(self.key_properties))
        if item is None:
            return
        if self.action.batchable:
            self._waiting.append(item)
        else:
            self.executor.run(self.action, item)

    def process_batch(self, context: dict[str, Any]) -> None:
        while self._waiting:
            batch = self._waiting[: self._batch_size]
            self._waiting = self._waiting[self._batch_size :]
            self.executor.run_batch(self.action, batch)


class UnroutedSink(SdkRecordChecksOff, Sink):
    """A stream that selects no action: its first record gets a `not_attempted` line saying
    why, and the run stops there (target.refuse_unrouted)."""

    def __init__(
        self,
        target: TargetCalendly,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self._refuse = target.refuse_unrouted

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        self._refuse(self.stream_name, record)

    def process_batch(self, context: dict[str, Any]) -> None:
        return None

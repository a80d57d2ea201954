"""Fan-out: child streams read per parent row (the invitees of each event, the hosts of each
event type) by a few worker threads while the parent pages on. One entry point: `with_children`.

The SDK syncs one request at a time, and Calendly lists most children only per parent: the
workers keep several calls in flight; the shared throttle in calendly_http still decides when each
one may go.

Not the SDK's child hooks (`generate_child_contexts`, one child sync per emitted parent row):
children also read the parent rows the bookmark filters out (an unchanged event's invitees may
change), their rows are emitted before their parent's page (a resume point written after the page
then covers them), and one sync per parent row would write a STATE message per row. Each child is
synced once per batch of parent rows instead, with a single un-partitioned bookmark, and its
bookmark is promoted together with its parent's.

Daemon threads, not a ThreadPoolExecutor: when a sync fails or is aborted the SDK does not close
the record generator promptly, and an executor's threads would keep fetching (and delay the
process exit) until their queue is drained.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from singer_sdk.exceptions import AbortedSyncFailedException, AbortedSyncPausedException
from singer_sdk.helpers.types import Record

if TYPE_CHECKING:
    from tap_calendly.client import CalendlyChildStream, CalendlyStream

T = TypeVar("T")
Row = dict[str, Any]
#: A batch handed to a child's sync: (parent row, that parent's child rows).
Pending = list[tuple[Mapping[str, Any], Future[Iterable[Record]]]]

#: Parent rows listed ahead of the batch being synced, per worker thread: keeps the workers busy
#: while the main thread emits a batch.
AHEAD_PER_WORKER = 4

_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]
_M_ARENA_MAX = -8  # glibc mallopt parameter


def with_children(parent: CalendlyStream, rows: Iterable[Row]) -> Iterable[Row]:
    """The parent's rows, each batch of them after its children's rows have been emitted; once
    the parent's listing has ended, the children's deletions and bookmarks too (`_finish`).

    For every listed parent row (emitted or not) each child's fetch is queued on the workers as
    soon as the row arrives. The rows themselves when no child of the parent is read.
    """
    children = parent.selected_children()
    return _with_children(parent, rows, children) if children else rows


def _with_children(
    parent: CalendlyStream, rows: Iterable[Row], children: list[CalendlyChildStream]
) -> Iterator[Row]:
    for child in children:
        child.prepare_fetch()
    batch, concurrency = parent.page_size, parent.calendly_tap.concurrency
    window: deque[tuple[Row, list[Future[Iterable[Record]]]]] = deque()
    with Workers(concurrency, f"{parent.name}-children") as workers:
        try:
            for row in rows:
                window.append((row, [_schedule(child, workers, row) for child in children]))
                if len(window) >= batch + AHEAD_PER_WORKER * concurrency:
                    yield from _release(window, batch, children)
            while window:
                yield from _release(window, batch, children)
        finally:
            for _, futures in window:
                for future in futures:
                    future.cancel()
    _finish(children)


def _schedule(
    child: CalendlyChildStream, workers: Workers, parent: Mapping[str, Any]
) -> Future[Iterable[Record]]:
    """The child's rows for one parent: fetched ahead on the workers, or, for a child that does
    not prefetch, a lazy reader that pages on the main thread when the batch syncs; nothing for
    a parent `reads_children_of` leaves out."""
    if not child.reads_children_of(parent):
        child.listing_is_partial()
        return _done(())
    if child.prefetch:
        return workers.submit(_fetch, child, parent)
    return _done(child.iter_for(parent))


def _fetch(child: CalendlyChildStream, parent: Mapping[str, Any]) -> list[Record]:
    """Runs on a worker thread: only the thread-safe client, no SDK state."""
    return list(child.iter_for(parent))


def _release(
    window: deque[tuple[Row, list[Future[Iterable[Record]]]]],
    count: int,
    children: list[CalendlyChildStream],
) -> Iterator[Row]:
    released = [window.popleft() for _ in range(min(count, len(window)))]
    for index, child in enumerate(children):
        _sync(child, [(row, futures[index]) for row, futures in released])
    for row, _ in released:
        yield row


def _sync(child: CalendlyChildStream, pending: Pending) -> None:
    """Emit the child rows of a batch of parent rows (the child's `get_records` reads them)."""
    child.pending = pending
    child.batches += 1
    try:
        child.sync(context={"batch": child.batches})
    except (AbortedSyncFailedException, AbortedSyncPausedException):
        # As the SDK does for children: a capped child (dry runs) leaves the parent going.
        logging.getLogger(__name__).debug("child sync of %s stopped early", child.name)
        child.listing_is_partial()


def _finish(children: list[CalendlyChildStream]) -> None:
    """Every parent's collection was read: emit the rows gone since the last run and promote the
    children's bookmarks, with no STATE message in between. The SDK promotes the parent's own
    bookmark right after and writes them all in one message, so a crash never finds the listing
    done and its children not."""
    for child in children:
        if deletions := child.vanished_rows():
            _sync(child, [({}, _done(deletions))])
        child.listing_done()
        child.state_manager.finalize_state(child.stream_state)


def _done(rows: Iterable[Record]) -> Future[Iterable[Record]]:
    future: Future[Iterable[Record]] = Future()
    future.set_result(rows)
    return future


class RequestTally:
    """Requests made on worker threads, handed to the SDK's metric on the main thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def count(self) -> None:
        with self._lock:
            self._count += 1

    def take(self) -> int:
        with self._lock:
            taken, self._count = self._count, 0
            return taken


@functools.cache
def share_one_malloc_arena() -> bool:
    """Make new threads allocate from the main malloc arena (glibc only; elsewhere a no-op).

    By default glibc gives each thread its own arena, and the parsed pages the workers hand over
    leave them fragmented: the tap's peak RSS grew with the number of events although Python's
    own peak stayed flat. One arena keeps it flat; the workers wait on the network, so the
    shared malloc lock costs nothing measurable (BENCHMARKS.md).
    """
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        return bool(ctypes.CDLL(name).mallopt(_M_ARENA_MAX, 1))
    except (OSError, AttributeError):
        return False


class Workers:
    """Run submitted calls on `size` daemon threads; results come back as Futures."""

    def __init__(self, size: int, name: str) -> None:
        share_one_malloc_arena()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True)
            for n in range(max(1, size))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((future, fn, args))
        return future

    def close(self) -> None:
        """Let the threads finish their current call and exit (queued calls are cancelled
        by whoever holds their futures)."""
        for _ in self._threads:
            self._jobs.put(None)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, fn, args = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to the thread that waits on the future
                future.set_exception(exc)

"""CalendlyStream: the one base stream. Every request goes through the run's CalendlyClient.

What a stream class declares (see streams.py) and what it means here:

- `path` (spelt as in the spec, `{uuid}` in it the organization's or the parent row's id),
  `params`, `page_size`, `scoped_to_organization`: the list request. Pages follow
  `calendly_http.next_page_token` (the token, or the one in a `next_page` URL; never the URL).
- `replication_key`: the bookmark field. Rows are emitted only when their change time
  (`changed_at`) is after the bookmark the run started with. The SDK keeps the largest
  `changed_at` emitted as a progress marker (the same value the filter compares: a bookmark
  saved from anything smaller would re-emit rows on an unchanged rerun) and promotes it only
  when the stream has finished, capped at the sync's start time.
- `sorted_desc_by`: the endpoint is sorted on this timestamp, newest first; paging stops at
  the first page that reaches the bookmark.
- `sorted_asc_by`: the endpoint is sorted on this timestamp, oldest first, and filters on
  `min_<it>`: after every page a STATE carries a resume point, and a run restarted from it
  goes on from that page instead of starting over (see resume.py). Calendly reads `min_*` as
  "after": every such filter is sent a margin earlier (`listing_from`) so rows at the bound
  itself, and rows sharing the last sort value of a page, are listed.
- Child streams (`CalendlyChildStream`) are fetched per parent row by a few worker threads
  while the parent pages on, for the parent rows their `reads_children_of` selects; see
  fanout.py. Their bookmarks are promoted in the same STATE message as their
  parent's. Their requests count in the SDK's `http_request_count` metric like the parent's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, cast

import requests
from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.helpers.types import Context, Record
from singer_sdk.streams import RESTStream

from calendly_http import (
    CalendlyClient,
    CalendlyError,
    NotFoundError,
    PermissionDeniedError,
    PlanRequiredError,
    json_body,
    uuid_of,
)
from calendly_plugin.sdk_compat import ProgressFromRow, SchemaOncePerRun, tap_of
from tap_calendly import schemas
from tap_calendly.deletions import DELETED_AT, ListingTracker, is_deletion
from tap_calendly.fanout import Pending, RequestTally, with_children
from tap_calendly.pagination import CalendlyPaginator
from tap_calendly.resume import ResumePoint, point_to_resume_from, resumable
from tap_calendly.timestamps import format_timestamp, listing_from, parse_timestamp

if TYPE_CHECKING:
    from tap_calendly.tap import TapCalendly

DEFAULT_LOOKBACK_DAYS = 30
DEFAULT_CONCURRENCY = 4

_RequestFunc = Callable[[requests.PreparedRequest, Any], requests.Response]


class CalendlyStream(ProgressFromRow, RESTStream[str | None]):
    """Base of every stream: URL, params, pagination, bookmarks and HTTP via calendly_http."""

    schema: ClassVar[StreamSchema] = StreamSchema(SchemaDirectory(schemas))
    primary_keys: ClassVar[tuple[str, ...]] = ("uri",)
    replication_key: ClassVar[str | None] = "updated_at"

    #: Query parameters sent on every page (sort orders, fixed filters).
    params: ClassVar[Mapping[str, str]] = {}
    page_size: ClassVar[int] = 100
    #: The endpoint pages (takes `count` and `page_token`); some answer one whole collection.
    paged: ClassVar[bool] = True
    #: Send `organization=<organization uri>`.
    scoped_to_organization: ClassVar[bool] = True
    #: The key of the response body that holds the rows: a list ("collection"), or one
    #: object ("resource") for endpoints that answer a single resource per parent.
    envelope: ClassVar[str] = "collection"
    #: Rows are this property of each collection item (users come inside memberships).
    item_key: ClassVar[str | None] = None
    #: The endpoint sorts on this timestamp, newest first: stop paging at the bookmark.
    sorted_desc_by: ClassVar[str | None] = None
    #: The endpoint sorts on this timestamp, oldest first, and filters on `min_<it>`.
    sorted_asc_by: ClassVar[str | None] = None
    #: Rows can vanish from Calendly: the whole listing is read every run and a row gone since
    #: the last complete one is emitted as a deletion (see deletions.py).
    tracks_deletions: ClassVar[bool] = False

    _bookmark_cache: datetime | None
    _bookmark_read = False
    #: The organization's plan does not include the stream: it ended early, bookmark unchanged.
    skipped = False
    #: The boolean or count setting that turns this stream on (opt-in streams: off while unset
    #: or 0); None: always on.
    enabled_by: ClassVar[str | None] = None
    _tracker: ListingTracker | None = None

    # -- settings and shared objects ------------------------------------------------------------

    @property
    def calendly_tap(self) -> TapCalendly:
        return cast("TapCalendly", tap_of(self))

    @property
    def client(self) -> CalendlyClient:
        return self.calendly_tap.client

    @property
    def url_base(self) -> str:
        return self.client.settings.api_url

    @property
    def turned_on(self) -> bool:
        """False for an opt-in stream its setting leaves off: it is not read at all."""
        return self.enabled_by is None or bool(self.config.get(self.enabled_by))

    @property
    def lookback(self) -> timedelta:
        return timedelta(days=self.config.get("lookback_days", DEFAULT_LOOKBACK_DAYS))

    @property
    def start_date(self) -> datetime | None:
        return parse_timestamp(self.config.get("start_date"))

    # -- bookmarks ------------------------------------------------------------------------------

    @property
    def bookmark(self) -> datetime | None:
        """The bookmark this run started from (None on a first or full-table run).

        Read from state once: the SDK promotes the new value only after the stream is done.
        """
        if not self._bookmark_read:
            self._bookmark_cache = self._stored_bookmark()
            self._bookmark_read = True
        return self._bookmark_cache

    def _stored_bookmark(self) -> datetime | None:
        if not self.replication_key or self.replication_method != "INCREMENTAL":
            return None
        resuming = self.listing.resume_point
        if resuming is not None and self.name in resuming.streams:
            return parse_timestamp(resuming.streams[self.name].bookmark)
        state = self.stream_state
        if state.get("replication_key") != self.replication_key:
            return None
        return parse_timestamp(state.get("replication_key_value"))

    def changed_at(self, row: Record) -> datetime | None:
        """When the row last changed, as compared with the bookmark."""
        return parse_timestamp(row.get(self.replication_key)) if self.replication_key else None

    def progress_value(self, record: Mapping[str, Any]) -> Any:
        """What advances the progress marker for an emitted row: its `changed_at`, the value
        rows are filtered on (the raw replication-key field of an invitee is older than its
        no-show or cancellation). None for a row emitted although it did not change after the
        bookmark (an invitee whose no-show was removed): the SDK would otherwise promote its
        older time and move the bookmark back."""
        changed = self.changed_at(dict(record))
        if is_deletion(record) or changed is None:
            return None
        if self.bookmark is not None and changed <= self.bookmark:
            return None
        return format_timestamp(changed)

    def get_replication_key_signpost(self, context: Context | None = None) -> Any:
        """Never later than the start of the interrupted run this one goes on from: what
        changed since in the part that run had already passed is read again next time."""
        signpost = super().get_replication_key_signpost(context)
        resuming = self.listing.resume_point
        if resuming is None or not isinstance(signpost, datetime):
            return signpost
        return min(signpost, resuming.run_started_at)

    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        if self.replication_key:
            row.setdefault(self.replication_key, None)
        if self.tracks_deletions:
            row.setdefault(DELETED_AT, None)  # a row back after its deletion is live again
        bookmark = self.bookmark
        if bookmark is None or is_deletion(row):
            return row
        if self._tracker is not None and self._tracker.reappeared(row):
            return row  # it was emitted as deleted: whatever its updated_at, it is back
        changed = self.changed_at(row)
        return row if changed is None or changed > bookmark else None

    # -- requests -------------------------------------------------------------------------------

    @property
    def organization_uri(self) -> str:
        return self.calendly_tap.organization_uri

    def path_under(self, uri: str) -> str:
        """The path, its `{uuid}` (the spec's placeholder) the id of the resource it lists under:
        the organization for a stream of its own, the parent row for a child."""
        return (self.path or "").replace("{uuid}", uuid_of(uri))

    def get_url(self, context: Context | None) -> str:
        if "{uuid}" not in (self.path or ""):
            return self.client.url(self.path or "")
        return self.client.url(self.path_under(self.organization_uri))

    def query(self, context: Context | None) -> dict[str, Any]:
        """Filters of this stream's list request (override to add computed ones)."""
        query: dict[str, Any] = dict(self.params)
        if self.scoped_to_organization:
            query["organization"] = self.organization_uri
        return query

    def get_url_params(self, context: Context | None, next_page_token: str | None) -> dict:
        params = {**self.query(context), **({"count": self.page_size} if self.paged else {})}
        if (resuming := self.resume_point) is not None:
            position = parse_timestamp(resuming.position)
            assert position is not None, "resume points are read only with a position"
            params[self.resume_filter] = listing_from(position)
        if next_page_token:
            params["page_token"] = next_page_token
        return params

    def request_decorator(self, func: _RequestFunc) -> _RequestFunc:
        """Send through calendly_http (throttle, auth, retries, errors) instead of the SDK's
        own backoff, which knows nothing of Calendly's rate-limit headers."""
        client = self.client

        def send(prepared_request: requests.PreparedRequest, context: Any) -> requests.Response:
            return client.send(prepared_request)

        return send

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        items: list[dict[str, Any]] = (json_body(response) or {}).get(self.envelope) or []
        if self.item_key is None:
            return items
        return [item[self.item_key] for item in items if item.get(self.item_key)]

    def get_new_paginator(self) -> CalendlyPaginator:
        stop_early = (
            self.sorted_desc_by
            and self.bookmark
            and not self.selected_children()
            and self._tracker is None
        )
        return CalendlyPaginator(self._reached_bookmark if stop_early else None)

    def _reached_bookmark(self, page: list[dict[str, Any]]) -> bool:
        assert self.sorted_desc_by is not None and self.bookmark is not None
        if not page:
            return True
        oldest = parse_timestamp(page[-1].get(self.sorted_desc_by))
        return oldest is not None and oldest <= self.bookmark

    # -- records --------------------------------------------------------------------------------

    def get_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        """The rows of every part of the listing; once it is complete, its deletions."""
        self._tracker = self.start_tracking()
        for part in self.listings(context):
            for row in self._listed(part):
                if self._tracker is not None:
                    self._tracker.saw(row)
                yield row
            if self.skipped:
                return
        if self._tracker is not None:
            yield from self._tracker.complete(self.stream_state, self.replication_key)
        yield from self.delivered_deletions()

    def listings(self, context: Context | None) -> Iterable[Context | None]:
        """The contexts of the list requests that make up the stream (one by default)."""
        return (context,)

    def lists_deletions(self) -> bool:
        """Whether deletions are learnt from the listing (see `delivered_deletions`)."""
        return self.tracks_deletions

    def start_tracking(self) -> ListingTracker | None:
        if not (self.lists_deletions() and self.selected):
            return None
        if self.replication_method == "FULL_TABLE" and self.config.get(
            "emit_activate_version_messages"
        ):
            return None  # ACTIVATE_VERSION has the loader drop every row this run did not send
        return ListingTracker(self.stream_state, self.primary_keys)

    def delivered_deletions(self) -> Iterator[dict[str, Any]]:
        """Deletion records learnt otherwise than from the listing (webhook deliveries)."""
        return iter(())

    def _listed(self, context: Context | None) -> Iterator[dict[str, Any]]:
        try:
            yield from resumable(self, with_children(self, self.request_records(context)))
        except PlanRequiredError as exc:
            self.skip_for_plan(exc)
        except PermissionDeniedError as exc:
            raise self.permission_error(exc) from exc

    def permission_error(self, exc: CalendlyError) -> CalendlyError:
        """The same error, naming the stream and what to do about it."""
        return type(exc)(
            f"{exc.message} Stream '{self.name}' reads the whole organization: use the token "
            "of an organization owner or admin, or deselect the stream.",
            status=exc.status,
            title=exc.title,
            details=exc.details,
            method=exc.method,
            url=exc.url,
        )

    def skip_for_plan(self, exc: CalendlyError) -> None:
        self.skipped = True
        self.logger.warning(
            "Skipping stream '%s': the organization's Calendly plan does not include it (%s). "
            "The rest of the sync goes on; its bookmark is unchanged.",
            self.name,
            exc,
        )

    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> Iterable[Context | None]:
        """None: children are synced batch by batch by fanout.py instead of once per emitted
        row, so they also see rows the bookmark filters out."""
        return ()

    def selected_children(self) -> list[CalendlyChildStream]:
        """The child streams this run reads for this stream's rows (fanout.py)."""
        return [
            child
            for child in self.child_streams
            if isinstance(child, CalendlyChildStream)
            and child.selected
            and child.turned_on
            and not child.skipped
        ]

    def fed_streams(self) -> list[CalendlyStream]:
        """The selected streams whose rows this listing yields."""
        return [*([self] if self.selected else []), *self.selected_children()]

    # -- resuming an interrupted listing (streams sorted oldest first; see resume.py) -----------

    @property
    def listing(self) -> CalendlyStream:
        """The stream whose list request yields this stream's rows."""
        return self

    @property
    def resume_filter(self) -> str:
        return f"min_{self.sorted_asc_by}"

    @cached_property
    def resume_point(self) -> ResumePoint | None:
        """Where an interrupted run of this listing stopped, if this run goes on from there."""
        return point_to_resume_from(self)


class CalendlyChildStream(SchemaOncePerRun, CalendlyStream):
    """A collection fetched once per parent row, e.g. the invitees of each event.

    One bookmark for the whole stream (state does not grow with the number of parents).
    """

    state_partitioning_keys: ClassVar[tuple[str, ...]] = ()
    #: Fetch each parent's rows ahead on the workers (many parents, a few rows each). A child
    #: whose per-parent collections grow with the organization pages lazily instead, so memory
    #: holds one page, not every parent's whole collection.
    prefetch: ClassVar[bool] = True
    scoped_to_organization = False
    #: The batch the next `sync` emits, and how many there were (set by fanout.py).
    pending: Pending
    batches = 0
    #: The parent row whose child rows are being emitted (for `post_process`).
    current_parent: Mapping[str, Any] | None = None

    def child_request(self, parent: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """Path and query of this child's list for one parent row."""
        raise NotImplementedError

    def enough(self, page: list[dict[str, Any]]) -> bool:
        """Whether a fetched page makes further pages pointless (endpoints sorted newest first)."""
        return False

    @property
    def listing(self) -> CalendlyStream:
        return next(
            stream
            for stream in self.calendly_tap.streams.values()
            if isinstance(stream, CalendlyStream) and type(stream) is self.parent_stream_type
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._requests = RequestTally()  # before any worker thread counts into it

    def prepare_fetch(self) -> None:
        """Called on the main thread before workers start: read state here, not in threads."""
        _ = self.bookmark
        self._tracker = self.start_tracking()

    def reads_children_of(self, parent: Mapping[str, Any]) -> bool:
        """Whether this run reads this parent's collection (called on the main thread)."""
        return True

    def listing_is_partial(self) -> None:
        """A parent left unread or a capped sync: this listing cannot tell what vanished."""
        self._tracker = None

    def vanished_rows(self) -> list[Record]:
        """Once every parent's collection was read: the rows gone since the last run."""
        if self._tracker is None or self.skipped:
            return []
        return list(self._tracker.complete(self.stream_state, self.replication_key))

    def listing_done(self) -> None:
        """Called once the parent listing has ended and the deletions are emitted, before the
        bookmark is promoted."""

    def iter_for(self, parent: Mapping[str, Any]) -> Iterator[Record]:
        path, params = self.child_request(parent)
        try:
            yield from self.client.paginate(
                path, params, enough=self.enough, on_page=self._requests.count
            )
        except NotFoundError:
            self.logger.warning(
                "'%s' of %s: the parent is gone (404); nothing to read.", self.name, parent["uri"]
            )

    def get_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        pending, self.pending = self.pending, []
        try:
            with self.get_http_request_counter() as counter:
                counter.with_context(context)
                try:
                    for parent, future in pending:
                        self.current_parent = parent
                        for row in future.result():
                            if self._tracker is not None and not is_deletion(row):
                                self._tracker.saw(row)
                            yield row
                finally:
                    self.current_parent = None
                    # Requests of this batch and of later ones the workers fetched ahead:
                    # every request is counted once, by the batch that sees it done.
                    counter.increment(self._requests.take())
        except PlanRequiredError as exc:
            self.skip_for_plan(exc)
        except PermissionDeniedError as exc:
            raise self.permission_error(exc) from exc
        finally:
            for _, future in pending:
                future.cancel()

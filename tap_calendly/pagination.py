"""Paging through Calendly collections: follow `pagination.next_page_token`, never `next_page`
URLs (they may name another host and repeat our parameters), and stop early when told."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests
from singer_sdk.pagination import BaseAPIPaginator

from calendly_http import CalendlyClient, json_body

Page = list[dict[str, Any]]


class CalendlyPaginator(BaseAPIPaginator[str | None]):
    """Follows `pagination.next_page_token`; optionally stops once a page says it is enough."""

    def __init__(self, enough: Callable[[Page], bool] | None = None) -> None:
        super().__init__(None)
        self._enough = enough

    def get_next(self, response: requests.Response) -> str | None:
        body = json_body(response) or {}
        if self._enough is not None and self._enough(body.get("collection") or []):
            return None
        token = (body.get("pagination") or {}).get("next_page_token")
        return str(token) if token else None


def iter_collection(
    client: CalendlyClient,
    path: str,
    params: Mapping[str, Any],
    enough: Callable[[Page], bool] | None = None,
    on_request: Callable[[], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every item of a per-parent collection, a page at a time; stops once `enough` says so.
    `on_request` is called once per page requested (for the request metrics)."""
    query = dict(params)
    while True:
        body = client.request("GET", path, params=query) or {}
        if on_request is not None:
            on_request()
        page = body.get("collection") or []
        yield from page
        token = (body.get("pagination") or {}).get("next_page_token")
        if not token or (enough is not None and enough(page)):
            return
        query["page_token"] = token


def fetch_collection(
    client: CalendlyClient,
    path: str,
    params: Mapping[str, Any],
    enough: Callable[[Page], bool] | None = None,
    on_request: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """`iter_collection`, read to the end (for a worker thread to hand over)."""
    return list(iter_collection(client, path, params, enough, on_request))

"""Paging through Calendly collections, as `calendly_http.next_page_token` decides the next
page (the token, else the token in the `next_page` URL, never the URL itself), and stopping
early when told."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests
from singer_sdk.pagination import BaseAPIPaginator

from calendly_http import CalendlyClient, json_body, next_page_token

Page = list[dict[str, Any]]


class CalendlyPaginator(BaseAPIPaginator[str | None]):
    """The SDK's view of `next_page_token`; optionally stops once a page says it is enough."""

    def __init__(self, enough: Callable[[Page], bool] | None = None) -> None:
        super().__init__(None)
        self._enough = enough

    def get_next(self, response: requests.Response) -> str | None:
        body = json_body(response) or {}
        if self._enough is not None and self._enough(body.get("collection") or []):
            return None
        return next_page_token(body)


def iter_collection(
    client: CalendlyClient,
    path: str,
    params: Mapping[str, Any],
    enough: Callable[[Page], bool] | None = None,
    on_request: Callable[[], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every item of a per-parent collection (`CalendlyClient.paginate`); stops once `enough`
    says so. `on_request` is called once per page requested (for the request metrics)."""
    return client.paginate(path, params, enough=enough, on_page=on_request)

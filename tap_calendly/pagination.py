"""The SDK's paginator over Calendly collections: `calendly_http.next_page_token` decides the
next page (the token, else the token in the `next_page` URL, never the URL itself), and it
stops early when told. Per-parent lists page with `CalendlyClient.paginate`, the same rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from singer_sdk.pagination import BaseAPIPaginator

from calendly_http import json_body, next_page_token

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

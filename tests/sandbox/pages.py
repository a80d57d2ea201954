"""How the sandbox's tests read the next page's token (an independent reading of the contract,
not calendly_http's): `next_page_token`, or, on a page in 2021's shape, the token in
`next_page`."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit


def next_token(body: dict[str, Any]) -> str | None:
    pagination = body["pagination"]
    if "next_page_token" in pagination:
        token: str | None = pagination["next_page_token"]
        assert (token is None) == (pagination["next_page"] is None), pagination
        return token
    if pagination["next_page"] is None:
        return None
    return parse_qs(urlsplit(pagination["next_page"]).query)["page_token"][-1]

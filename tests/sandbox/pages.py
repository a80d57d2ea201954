"""How the sandbox's tests read collections (an independent reading of the contract, not
calendly_http's): the next page's token is `next_page_token`, or, on a page in 2021's shape,
the token in `next_page`."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests


def next_token(body: dict[str, Any]) -> str | None:
    pagination = body["pagination"]
    if "next_page_token" in pagination:
        token: str | None = pagination["next_page_token"]
        assert (token is None) == (pagination["next_page"] is None), pagination
        return token
    if pagination["next_page"] is None:
        return None
    return parse_qs(urlsplit(pagination["next_page"]).query)["page_token"][-1]


def every_page(session: requests.Session, url: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a collection, following page tokens to the end."""
    rows: list[dict[str, Any]] = []
    query = dict(params)
    while True:
        response = session.get(url, params=query, timeout=30)
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["collection"]
        token = next_token(body)
        if not token:
            return rows
        query["page_token"] = token


def bearer_session(token: str) -> requests.Session:
    """A session with a bearer token whose answers are not spec-checked."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session

"""Paging (`CalendlyClient.paginate`, `next_page_token`): the one place every client of ours
follows pages, the tap's paginator included. A real page of 2021 carries `next_page` without
`next_page_token`; its token is followed on the configured API, never the URL's host."""

from __future__ import annotations

import pytest
import requests_mock as rm

from calendly_http import CalendlyClient, CalendlyError, ClientSettings, next_page_token

API = "https://api.calendly.com"
ELSEWHERE = "https://elsewhere.example/groups"


def make_client() -> CalendlyClient:
    settings = ClientSettings.from_config({"token": "pat-secret-123", "requests_per_minute": 6000})
    return CalendlyClient(settings, sleep=lambda _: None)


def page(items: list[int], **pagination: object) -> dict:
    return {"status_code": 200, "json": {"collection": items, "pagination": pagination}}


def test_a_page_with_only_next_page_is_followed_on_the_configured_api(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.get(
        f"{API}/groups",
        [
            page([1, 2], next_page=f"{ELSEWHERE}?count=2&page_token=t1"),  # 2021's shape
            page([3], next_page=f"{API}/groups?page_token=t2", next_page_token="t2"),
            page([4], next_page=None),
        ],
    )
    items = list(make_client().paginate("/groups", {"organization": "o", "count": 2}))
    assert items == [1, 2, 3, 4]
    sent = requests_mock.request_history
    assert [r.qs.get("page_token") for r in sent] == [None, ["t1"], ["t2"]]
    assert all(r.netloc == "api.calendly.com" and r.qs["organization"] == ["o"] for r in sent)


def test_paging_stops_where_told_and_counts_each_page(requests_mock: rm.Mocker) -> None:
    requests_mock.get(
        f"{API}/x",
        [page([1], next_page_token="a"), page([2], next_page_token="b"), page([3])],
    )
    pages: list[None] = []
    got = list(
        make_client().paginate(
            "/x", {}, enough=lambda items: items[-1] >= 2, on_page=lambda: pages.append(None)
        )
    )
    assert got == [1, 2] and len(pages) == requests_mock.call_count == 2


@pytest.mark.parametrize(
    ("pagination", "token"),
    [
        ({"next_page_token": "T", "next_page": f"{ELSEWHERE}?page_token=OTHER"}, "T"),
        ({"next_page": f"{ELSEWHERE}?count=5&page_token=T%2B1"}, "T+1"),
        ({"next_page_token": None, "next_page": None}, None),
        ({"next_page": None}, None),
        ({}, None),
    ],
)
def test_next_page_token(pagination: dict, token: str | None) -> None:
    assert next_page_token({"collection": [], "pagination": pagination}) == token


def test_a_next_page_without_a_token_is_an_error_not_a_silent_end() -> None:
    with pytest.raises(CalendlyError, match="without a page_token"):
        next_page_token({"pagination": {"next_page": f"{ELSEWHERE}?offset=20"}})

"""The request context handlers receive, and the shared helpers for list responses."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from calendly_sandbox import realism
from calendly_sandbox.auth import Principal
from calendly_sandbox.errors import FORBIDDEN, ApiError
from calendly_sandbox.paging import SortOrder, TokenCodec, build_index, parse_sort, scan
from calendly_sandbox.store import Resource, Store, uuid_of
from calendly_sandbox.timefmt import fmt, parse
from calendly_sandbox.uuids import mint_uuid

PLAN_RANK = {"free": 0, "standard": 1, "teams": 2, "enterprise": 3}
CREATED_ASC = SortOrder(("created_at",), (False,))
START_ASC = SortOrder(("start_time",), (False,))
Predicate = Callable[[str], bool]


@dataclass
class Reply:
    status: int
    body: Any = None  # None -> no body (204)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    store: Store
    principal: Principal
    op_key: str
    op: Mapping[str, Any]
    url_path: str
    query: Mapping[str, list[str]]
    params: dict[str, Any]
    path: dict[str, str]
    body: Any
    plan: str
    codec: TokenCodec
    now: Callable[[], float]

    @property
    def me(self) -> str:
        return self.principal.user_uri

    @property
    def is_admin(self) -> bool:
        return self.store.is_admin(self.me)

    def require_admin(self, message: str = FORBIDDEN) -> None:
        if not self.is_admin:
            raise ApiError(403, message)

    def require_plan(self, minimum: str, message: str) -> None:
        if PLAN_RANK[self.plan] < PLAN_RANK[minimum]:
            raise ApiError(403, message)

    def require_own_org(self, uri: str | None, parameter: str = "organization") -> None:
        if uri is not None and uri != self.store.organization["uri"]:
            raise ApiError(403, FORBIDDEN, reason=f"{parameter} is not your organization")

    def lookup(self, kind: str, uuid: str, what: str) -> Resource:
        resource = self.store.kind(kind).get(uuid)
        if resource is None:
            raise ApiError(404, reason=f"{what} {uuid} not found")
        return resource

    def lookup_uri(self, kind: str, uri: str, what: str, parameter: str) -> Resource:
        resource = self.store.kind(kind).get(uuid_of(uri)) if uri else None
        if resource is None or not uri.startswith(self.store.base_url + "/"):
            raise ApiError(404, parameter=parameter, reason=f"{what} {uri} not found")
        return resource

    def sort_order(self, default: str) -> SortOrder:
        fact = self.op["params"].get("sort", {})
        raw = self.query.get("sort", []) + self.query.get("sort[]", [])
        return parse_sort(raw or None, fact.get("sort_fields") or [default.split(":")[0]], default)


# (method, path template, handler): a resource module's routes; the template is the spec's path.
Routes = tuple[tuple[str, str, Callable[[Ctx], Any]], ...]


def page(
    ctx: Ctx,
    kind: str,
    order: SortOrder,
    predicate: Callable[[str], bool] | None = None,
    *,
    items: Iterable[tuple[str, Resource]] | None = None,
    window: tuple[Any, Any] = (None, None),
) -> dict[str, Any]:
    """A `{collection, pagination}` body: keyset page of `kind` in `order` after page_token."""
    count: int = ctx.params["count"]
    fingerprint = TokenCodec.fingerprint(ctx.url_path, ctx.query)
    token = ctx.query.get("page_token", [""])[-1]
    after = order.key_from_token(ctx.codec.decode(token, fingerprint)) if token else None
    index = ctx.store.index(kind, order) if items is None else build_index(items, order)
    uuids, last = scan(index, order, after, count, predicate, window)
    table = ctx.store.kind(kind)
    next_token = ctx.codec.encode(order.token_values(last), fingerprint) if last else None
    pagination = {
        "count": len(uuids),
        "next_page": next_url(ctx, next_token) if next_token else None,
        "previous_page": None,
        "next_page_token": next_token,
        "previous_page_token": None,
    }
    first_row = uuids[0] if uuids else ""
    if ctx.store.hard and realism.served_in_2021_shape(f"{ctx.url_path}.{first_row}"):
        del pagination["next_page_token"], pagination["previous_page_token"]
    return {"collection": [table[u] for u in uuids], "pagination": pagination}


def next_url(ctx: Ctx, token: str) -> str:
    query = [(k, v) for k, values in ctx.query.items() if k != "page_token" for v in values]
    query.append(("page_token", token))
    return f"{ctx.store.base_url}{ctx.url_path}?{urlencode(query)}"


def resource(body: Resource) -> dict[str, Any]:
    return {"resource": body}


def new_uuid(ctx: Ctx, *parts: object) -> str:
    """A fresh uuid, deterministic in the store's history (same writes -> same uuids)."""
    return mint_uuid(ctx.store, ctx.op_key, *parts)


def body_field(ctx: Ctx, name: str) -> Any:
    return ctx.body.get(name) if isinstance(ctx.body, dict) else None


# -- filters for list responses -------------------------------------------------------------------
def all_of(*tests: Predicate | None) -> Predicate | None:
    active = [t for t in tests if t is not None]
    if not active:
        return None
    if len(active) == 1:
        return active[0]
    return lambda uuid: all(t(uuid) for t in active)


def field_is(table: dict[str, Resource], field: str, value: Any) -> Predicate | None:
    if value is None:
        return None
    return lambda uuid: table[uuid].get(field) == value


def time_window(
    ctx: Ctx, low_param: str, high_param: str, unit_us: int = 1
) -> tuple[str | None, str | None]:
    """Query bounds as stored strings (`unit_us`: the stored precision, in microseconds):
    (lowest included value, lowest excluded value).

    The spec words min_* as "after this time": hard realism excludes the bound itself,
    lenient includes it (the sandbox's older reading).
    """
    low, high = ctx.params.get(low_param), ctx.params.get(high_param)
    first: str | None = None
    if low:
        micros = to_micros(low)
        if ctx.store.hard:
            first = from_micros((micros // unit_us + 1) * unit_us, unit_us)
        else:
            first = from_micros(micros // unit_us * unit_us, unit_us)
    return first, from_micros(to_micros(high) // unit_us * unit_us, unit_us) if high else None


def to_micros(text: str) -> int:
    whole = parse(text)
    seconds = int(whole // 1)
    fraction = text.strip().rstrip("zZ").partition(".")[2]
    digits = "".join(c for c in fraction if c.isdigit())[:6].ljust(6, "0")
    if "+" in fraction or "-" in fraction:  # an offset after the fraction: trust the float
        return round(whole * 1_000_000)
    return seconds * 1_000_000 + int(digits)


def from_micros(micros: int, unit_us: int = 1) -> str:
    text = fmt(micros // 1_000_000)[:-8] + f".{micros % 1_000_000:06d}Z"
    return text if unit_us == 1 else text[:23] + "Z"


def in_window(table: dict[str, Resource], field: str, window: tuple[Any, Any]) -> Predicate | None:
    low, high = window
    if low is None and high is None:
        return None
    return lambda uuid: (
        (low is None or table[uuid][field] >= low) and (high is None or table[uuid][field] < high)
    )

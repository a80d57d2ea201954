"""Validate sandbox responses against Calendly's OpenAPI document with openapi-core.

The spec is loaded once per session. Its server is https://api.calendly.com, so a sandbox URL is
mapped onto it. A status the operation documents is validated by openapi-core against that
operation's response; a status that applies to every operation but is not documented on this
one (401, 429, fault 5xx, unknown routes) is validated against the spec's ErrorResponse schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import requests
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from calendly_sandbox.realism import (
    MAY_BE_A_NUMBER,
    MAY_BE_ABSENT,
    MAY_BE_NULL,
    REAL_ERROR_TITLES,
    SPEC_DIFFERENCES,
    SpecDifference,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO_ROOT / "spec" / "calendly" / "openapi.json"
SPEC_HOST = "https://api.calendly.com"
# Statuses any endpoint may answer even where its operation does not list them.
GLOBAL_STATUSES = {401, 404, 429, 500, 503}


def relax(raw: dict[str, Any], differences: tuple[SpecDifference, ...]) -> dict[str, Any]:
    """The spec with exactly `differences` allowed (the hard sandbox's listed deviations)."""
    schemas = raw["components"]["schemas"]
    for difference in differences:
        if difference.change == REAL_ERROR_TITLES:
            generic = {"$ref": "#/components/schemas/ErrorResponse"}
            for item in raw["paths"].values():
                for operation in item.values():
                    for status, response in (operation.get("responses") or {}).items():
                        content = (response.get("content") or {}).get("application/json")
                        if int(status) >= 400 and content:
                            content["schema"] = generic
            continue
        schema = schemas[difference.schema]
        if difference.change == MAY_BE_ABSENT:
            schema["required"] = [k for k in schema["required"] if k != difference.field]
            continue
        extra = {MAY_BE_NULL: {"type": "null"}, MAY_BE_A_NUMBER: {"type": "number"}}
        field = schema["properties"][difference.field]
        schema["properties"][difference.field] = {"anyOf": [field, extra[difference.change]]}
    return raw


class SpecChecker:
    def __init__(
        self,
        spec_path: Path = SPEC_PATH,
        differences: tuple[SpecDifference, ...] = SPEC_DIFFERENCES,
    ) -> None:
        """`differences`: what real responses (the hard sandbox) may do against the spec;
        () to validate the lenient sandbox against the spec as written."""
        self.raw: dict[str, Any] = relax(
            json.loads(spec_path.read_text(encoding="utf-8")), differences
        )
        self.openapi = OpenAPI.from_dict(self.raw, config=Config(spec_validator_cls=None))
        self.error_schema = self.inline(self.raw["components"]["schemas"]["ErrorResponse"])

    def inline(self, node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target: Any = self.raw
                for part in node["$ref"].split("/")[1:]:
                    target = target[part]
                return self.inline(target)
            return {k: self.inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.inline(v) for v in node]
        return node

    def operation_path(self, method: str, path: str) -> str | None:
        """The spec path template that matches a concrete path (literal segments win)."""
        segments = path.strip("/").split("/")
        best: tuple[int, str] | None = None
        for template, item in self.raw["paths"].items():
            if method.lower() not in item:
                continue
            parts = template.strip("/").split("/")
            if len(parts) != len(segments):
                continue
            if all(
                p == s or (p.startswith("{") and p.endswith("}"))
                for p, s in zip(parts, segments, strict=True)
            ):
                literal = sum(1 for p in parts if not p.startswith("{"))
                if best is None or literal > best[0]:
                    best = (literal, template)
        return best[1] if best else None

    def check(self, response: requests.Response) -> None:
        """Raise if the response body does not match the spec."""
        request = response.request
        split = urlsplit(request.url or "")
        method = (request.method or "GET").upper()
        if split.path.startswith("/oauth/"):
            return  # the token endpoint lives on auth.calendly.com and is not in this spec
        template = self.operation_path(method, split.path)
        status = response.status_code
        documented = (
            template is not None
            and str(status) in self.raw["paths"][template][method.lower()]["responses"]
        )
        if documented and status == 204:
            # The spec gives its 204s a JSON object schema, but HTTP forbids a 204 body (and a
            # stray body would corrupt the next response on a keep-alive connection).
            assert response.content == b"", f"{method} {split.path}: 204 with a body"
        elif documented:
            mock_request = MockRequest(
                SPEC_HOST, method.lower(), split.path, args=dict(parse_qsl(split.query))
            )
            mock_response = MockResponse(
                response.content, status_code=status, content_type="application/json"
            )
            self.openapi.validate_response(mock_request, mock_response)
        else:
            assert status in GLOBAL_STATUSES, (
                f"{method} {split.path} answered {status}, which its operation does not document"
            )
            jsonschema.validate(response.json(), self.error_schema)


def checked_session(spec: SpecChecker, token: str | None) -> requests.Session:
    """A session (bearer `token`, or none) whose every response is checked against the spec."""
    session = requests.Session()
    if token is not None:
        session.headers["Authorization"] = f"Bearer {token}"

    def validate(response: requests.Response, *args: object, **kwargs: object) -> None:
        spec.check(response)

    session.hooks["response"].append(validate)
    return session

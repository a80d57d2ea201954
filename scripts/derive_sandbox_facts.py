"""Derive the facts calendly_sandbox needs from Calendly's OpenAPI document.

Usage: python scripts/derive_sandbox_facts.py [SPEC] [OUT]
  SPEC defaults to the repository's copy, spec/calendly/openapi.json,
  OUT  defaults to calendly_sandbox/spec_facts.json.
  With --check, nothing is written; the exit status says whether OUT is up to date.

The sandbox reads only the committed output, never the spec. Facts kept per operation:
query/path parameters (type, format, enum, bounds, default, required), supported sort fields,
the success status, a trimmed request-body schema (types, enums, bounds, required, oneOf),
and for each documented error status the titles and messages the spec pins (enums), so the
sandbox sends error bodies that the spec's own response schemas accept.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPEC = REPO_ROOT / "spec" / "calendly" / "openapi.json"
DEFAULT_OUT = REPO_ROOT / "calendly_sandbox" / "spec_facts.json"
METHODS = ("get", "post", "patch", "delete", "put")
# Keywords of a schema the sandbox's validator understands; everything else (prose) is dropped.
KEPT_KEYWORDS = (
    "type",
    "format",
    "enum",
    "minimum",
    "maximum",
    "maxLength",
    "minLength",
    "pattern",
)
SORT_FIELDS_RE = re.compile(r"Supported fields are:\s*([a-z_.,\s]+?)\.\s", re.S)
BOLD_FIELD_RE = re.compile(r"\*\*([a-z_]+)\*\*")


class Spec:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.doc
            for part in node["$ref"].split("/")[1:]:
                target = target[part]
            node = target
        return node

    def trim(self, node: Any, depth: int = 0) -> dict[str, Any]:
        """A schema reduced to what request validation needs (recursion-safe by depth)."""
        node = self.resolve(node)
        out: dict[str, Any] = {k: node[k] for k in KEPT_KEYWORDS if k in node}
        if depth > 8:
            return out
        if "oneOf" in node:
            out["oneOf"] = [self.trim(v, depth + 1) for v in node["oneOf"]]
        if "properties" in node:
            out["properties"] = {k: self.trim(v, depth + 1) for k, v in node["properties"].items()}
        if "required" in node:
            out["required"] = list(node["required"])
        if "items" in node:
            out["items"] = self.trim(node["items"], depth + 1)
        return out


def sort_fields(spec: Spec, param: dict[str, Any]) -> list[str] | None:
    schema = spec.resolve(param.get("schema", {}))
    items = spec.resolve(schema.get("items", {}))
    if "enum" in items:  # activity log: an explicit list of field:direction values
        return sorted({v.split(":")[0] for v in items["enum"]})
    text = param.get("description", "") + " "
    match = SORT_FIELDS_RE.search(text)
    if match:
        return [f.strip() for f in match.group(1).split(",") if f.strip()]
    bold = BOLD_FIELD_RE.findall(text)
    if bold:
        return bold
    default = schema.get("default")
    return [default.split(":")[0]] if isinstance(default, str) else None


def parameter_facts(spec: Spec, op: dict[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for raw in op.get("parameters", []):
        param = spec.resolve(raw)
        schema = spec.trim(param.get("schema", {}))
        raw_schema = spec.resolve(param.get("schema", {}))
        fact: dict[str, Any] = {"in": param["in"], "required": bool(param.get("required"))}
        fact.update(schema)
        if "default" in raw_schema:
            fact["default"] = raw_schema["default"]
        if param["name"] == "sort":
            fact["sort_fields"] = sort_fields(spec, param)
        facts[param["name"]] = fact
    return facts


def error_facts(spec: Spec, status: str, response: Any) -> dict[str, Any]:
    """Titles/messages the spec allows for one error status (None = any string)."""
    response = spec.resolve(response)
    schema = spec.resolve(response.get("content", {}).get("application/json", {}).get("schema", {}))
    variants = [spec.resolve(v) for v in schema.get("oneOf", [schema])]
    # The insufficient-scope variant is separate: the sandbox does not model OAuth scopes.
    variants = [
        v
        for v in variants
        if "Insufficient scope"
        not in spec.resolve(v.get("properties", {}).get("title", {})).get("enum", [])
    ]
    if not variants or not variants[0].get("properties"):
        return {"titles": None, "messages": None, "details": False, "documented": bool(schema)}
    props = variants[0]["properties"]
    title = spec.resolve(props.get("title", {}))
    message = spec.resolve(props.get("message", {}))
    return {
        "titles": title.get("enum"),
        "messages": message.get("enum"),
        "details": "details" in props,
        "documented": True,
    }


def request_body_facts(spec: Spec, op: dict[str, Any]) -> dict[str, Any] | None:
    body = spec.resolve(op.get("requestBody"))
    if not body:
        return None
    content = body.get("content", {})
    for media in ("application/json", "application/x-www-form-urlencoded"):
        if media in content:
            return spec.trim(content[media].get("schema", {}))
    return None


def derive(doc: dict[str, Any], source_bytes: bytes) -> dict[str, Any]:
    spec = Spec(doc)
    operations: dict[str, Any] = {}
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            statuses = sorted(op.get("responses", {}))
            success = next((int(s) for s in statuses if s.startswith("2")), 200)
            operations[f"{method.upper()} {path}"] = {
                "success": success,
                "statuses": [int(s) for s in statuses if s.isdigit()],
                "params": parameter_facts(spec, op),
                "body": request_body_facts(spec, op),
                "errors": {
                    s: error_facts(spec, s, r)
                    for s, r in op.get("responses", {}).items()
                    if s.isdigit() and int(s) >= 400
                },
            }
    webhook = spec.resolve(doc["components"]["schemas"].get("WebhookSubscription", {}))
    events_enum = spec.resolve(
        spec.resolve(webhook.get("properties", {}).get("events", {})).get("items", {})
    ).get("enum")
    return {
        "source": {
            "title": doc["info"]["title"],
            "version": doc["info"]["version"],
            "sha256": hashlib.sha256(source_bytes).hexdigest(),
        },
        "operations": operations,
        "webhook_events": events_enum,
    }


def render(facts: dict[str, Any]) -> str:
    return json.dumps(facts, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    spec_path = Path(args[0]) if args else DEFAULT_SPEC
    out_path = Path(args[1]) if len(args) > 1 else DEFAULT_OUT
    if not spec_path.is_file():
        print(f"spec not found: {spec_path}", file=sys.stderr)
        return 2
    source = spec_path.read_bytes()
    text = render(derive(json.loads(source), source))
    if check:
        current = out_path.read_text(encoding="utf-8") if out_path.is_file() else ""
        if current != text:
            print(f"{out_path} is out of date; rerun {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    out_path.write_text(text, encoding="utf-8")
    print(f"wrote {out_path} ({len(text)} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

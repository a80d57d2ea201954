"""Derive tap_calendly/schemas/<stream>.json from Calendly's OpenAPI document.

Usage: python scripts/derive_tap_schemas.py [SPEC] [--check]

SPEC defaults to the repository's copy, spec/calendly/openapi.json. With --check, nothing
is written and the exit code says whether the committed files match the spec.

For each stream of the tap (its class declares `path`, `envelope`, `item_key` and its keys) the
item schema of its list endpoint's 200 response (`collection[*]`) is
resolved ($ref, allOf, oneOf/anyOf merged into one object with the union of the variants'
properties) and reduced to the facts a warehouse needs:

- every property, recursively, with its JSON type(s);
- `format` only where it types a column (date-time, date);
- nullability: every property accepts null except the stream's primary and replication keys.
  Real responses carry nulls (and lack keys) where the spec calls them impossible (e.g.
  invitees.name, meeting_notes_html, older records without no_show or payment), and a loader
  that validates records rejects a row its schema forbids; an absent field reaches a warehouse
  as null anyway;
- real types where real responses contradict the spec (REAL_TYPES, e.g. payment.amount is also
  sent as a JSON number) and documented fields the spec lacks (UNLISTED_FIELDS);
- objects allow additional properties, so a field Calendly adds later is passed through
  instead of being dropped by the SDK;
- `_sdc_deleted_at` (nullable date-time) on the streams whose vanished rows the tap emits as
  deletions, so targets accept the marker;
- enums, patterns, lengths and prose are left out: they describe the API's validation, and an
  enum in a tap schema breaks loads the day Calendly adds a value.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPEC = REPO_ROOT / "spec" / "calendly" / "openapi.json"
SCHEMA_DIR = REPO_ROOT / "tap_calendly" / "schemas"

# The endpoint answers one `resource`, not a `collection` (a pointer's first element).
SINGLE_RESOURCE = "@resource"


def _stream_types() -> tuple[Any, ...]:
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from tap_calendly.streams import STREAM_TYPES

    return STREAM_TYPES


def _source(stream: Any) -> tuple[str, tuple[str, ...]]:
    """(list endpoint, property path inside its item: () = the item), as the class declares them
    (`path`, `envelope`, `item_key`)."""
    if stream.envelope == "resource":
        return stream.path, (SINGLE_RESOURCE,)
    return stream.path, (stream.item_key,) if stream.item_key else ()


# stream name -> its source, read from the tap's stream classes
STREAM_SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    stream.name: _source(stream) for stream in _stream_types()
}

_URI = {"type": "string"}
# The Singer deletion marker: null on live rows, set on the record of a row gone from Calendly.
DELETED_AT = "_sdc_deleted_at"
_MOMENT = {"type": "string", "format": "date-time"}
# Columns the tap adds to rows of these streams (the parent they were read for, the snapshot time),
# and keys the spec leaves optional or nullable (a key or a bookmark field is never null).
STREAM_EXTRAS: dict[str, dict[str, dict[str, str]]] = {
    "event_type_availability_schedules": {"event_type": _URI},
    "event_type_available_times": {"event_type": _URI, "captured_at": _MOMENT},
    "locations": {"user": _URI},
    # The tap fills a recap's missing updated_at with its created_at (tap_calendly/streams.py).
    "meeting_recaps": {"updated_at": _MOMENT},
    "meeting_recap_transcripts": {"meeting_recap": _URI},
    "user_busy_times": {"user": _URI, "captured_at": _MOMENT},
}

# (stream, property path) -> JSON types real responses send beside the spec's.
REAL_TYPES: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {
    ("invitees", ("payment", "amount")): ("number",),
}
# (stream, top-level property) -> its schema: fields Calendly documents that the spec lacks.
UNLISTED_FIELDS: dict[tuple[str, str], dict[str, Any]] = {
    # "instant" or "poll", as on the event type (developer docs: Get Event).
    ("scheduled_events", "booking_method"): {"type": ["string", "null"]},
}

KEPT_FORMATS = frozenset({"date-time", "date"})
TYPE_ORDER = ("object", "array", "string", "integer", "number", "boolean", "null")


class SpecError(ValueError):
    """The spec does not have the shape this script expects."""


class Resolver:
    """Resolves local `$ref`s and composition keywords of one OpenAPI document."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec

    def deref(self, node: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Mapping[str, Any]:
        while "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise SpecError(f"cyclic $ref {ref}")
            seen = (*seen, ref)
            if not ref.startswith("#/"):
                raise SpecError(f"non-local $ref {ref}")
            target: Any = self.spec
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            # Sibling keywords of a $ref (3.1) refine the target: nullable/type win.
            extra = {k: v for k, v in node.items() if k not in ("$ref", "description")}
            node = {**target, **extra} if extra else target
        return node

    def variants(self, node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """The alternatives a value may take (one for a plain schema)."""
        node = self.deref(node)
        alternatives = node.get("oneOf") or node.get("anyOf")
        if alternatives:
            own = {k: v for k, v in node.items() if k not in ("oneOf", "anyOf")}
            for alternative in alternatives:
                for variant in self.variants(alternative):
                    yield _merge_all_of([own, variant]) if own.get("properties") else variant
            return
        if "allOf" in node:
            parts = [self.deref(part) for part in node["allOf"]]
            own = {k: v for k, v in node.items() if k != "allOf"}
            yield _merge_all_of([own, *parts])
            return
        yield node


def _merge_all_of(parts: list[Mapping[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for part in parts:
        for key, value in part.items():
            if key == "properties":
                properties.update(value)
            elif key == "required":
                required.extend(r for r in value if r not in required)
            else:
                merged.setdefault(key, value)
    if properties:
        merged["properties"] = properties
        merged.setdefault("type", "object")
    if required:
        merged["required"] = required
    return merged


def _types_of(node: Mapping[str, Any]) -> list[str]:
    declared = node.get("type")
    types = [declared] if isinstance(declared, str) else list(declared or [])
    if not types:
        if "properties" in node:
            types = ["object"]
        elif "items" in node:
            types = ["array"]
        elif "enum" in node:
            types = sorted({_json_type(v) for v in node["enum"]}, key=TYPE_ORDER.index)
        else:
            # No type at all: any JSON value. Say so explicitly for the SDK.
            types = ["object", "array", "string", "number", "boolean"]
    if node.get("nullable") is True and "null" not in types:
        types.append("null")
    return types


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


class Deriver:
    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.resolver = Resolver(spec)
        self.spec = spec

    def stream_schema(
        self, path: str, pointer: tuple[str, ...], keys: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """The stream's schema; `keys` (primary and replication keys) alone refuse null."""
        try:
            operation = self.spec["paths"][path]["get"]
            body = operation["responses"]["200"]["content"]["application/json"]["schema"]
        except KeyError as exc:
            raise SpecError(f"GET {path} has no 200 application/json response") from exc
        envelope = self.resolver.deref(body)
        if pointer[:1] == (SINGLE_RESOURCE,):
            return self.node(envelope["properties"]["resource"], keys)
        try:
            item: Mapping[str, Any] = envelope["properties"]["collection"]["items"]
        except KeyError as exc:
            raise SpecError(f"GET {path} does not return a `collection`") from exc
        for name in pointer:
            merged = self._merge([*self.resolver.variants(item)])
            item = merged["properties"][name]
        schema = self.node(item, keys)
        if schema["type"] != "object":
            raise SpecError(f"GET {path}: item {'.'.join(pointer)} is not an object")
        return schema

    def _merge(self, variants: list[Mapping[str, Any]]) -> dict[str, Any]:
        """One schema that accepts what any of the variants accepts."""
        if len(variants) == 1:
            return dict(variants[0])
        types: list[str] = []
        properties: dict[str, list[Mapping[str, Any]]] = {}
        required: set[str] | None = None
        items: list[Mapping[str, Any]] = []
        formats: set[str | None] = set()
        for variant in variants:
            types.extend(t for t in _types_of(variant) if t not in types)
            for name, prop in (variant.get("properties") or {}).items():
                properties.setdefault(name, []).append(prop)
            if "object" in _types_of(variant):
                variant_required = set(variant.get("required") or ())
                required = variant_required if required is None else required & variant_required
            if "items" in variant:
                items.append(variant["items"])
            if "string" in _types_of(variant):
                formats.add(variant.get("format"))
        merged: dict[str, Any] = {"type": types}
        if properties:
            merged["properties"] = {
                name: {"oneOf": alternatives} if len(alternatives) > 1 else alternatives[0]
                for name, alternatives in properties.items()
            }
        if required:
            merged["required"] = sorted(required)
        if items:
            merged["items"] = {"oneOf": items} if len(items) > 1 else items[0]
        if len(formats) == 1 and (only := formats.pop()):
            merged["format"] = only
        return merged

    def node(self, raw: Mapping[str, Any], keys: frozenset[str] = frozenset()) -> dict[str, Any]:
        """`keys`: properties of this object that keep the spec's nullability (all others,
        at any depth, accept null)."""
        source = self._merge([*self.resolver.variants(raw)])
        types = sorted(_types_of(source), key=TYPE_ORDER.index)
        out: dict[str, Any] = {"type": types}
        if source.get("format") in KEPT_FORMATS and "string" in types:
            out["format"] = source["format"]
        if "object" in types:
            required = set(source.get("required") or ())
            properties: dict[str, Any] = {}
            for name, prop in (source.get("properties") or {}).items():
                prop_schema = self.node(prop)
                if name not in keys or name not in required:
                    _allow_null(prop_schema)
                properties[name] = prop_schema
            out["properties"] = properties
            out["additionalProperties"] = True
        if "array" in types:
            out["items"] = self.node(source["items"]) if "items" in source else {}
        out["type"] = types[0] if len(types) == 1 else types
        return out


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _allow_null(schema: dict[str, Any]) -> None:
    types = _as_list(schema["type"])
    if "null" not in types:
        schema["type"] = [*types, "null"]


def stream_keys() -> dict[str, frozenset[str]]:
    """Primary and replication keys per stream, as the tap's stream classes declare them."""
    return {
        stream.name: frozenset((*stream.primary_keys, stream.replication_key or ""))
        for stream in _stream_types()
    }


def streams_tracking_deletions() -> frozenset[str]:
    """Streams whose vanished rows the tap emits with `_sdc_deleted_at` (tap_calendly/deletions.py)."""
    return frozenset(stream.name for stream in _stream_types() if stream.tracks_deletions)


def derive_all(spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    deriver = Deriver(spec)
    keys = stream_keys()
    schemas = {
        stream: deriver.stream_schema(path, pointer, keys.get(stream, frozenset()))
        for stream, (path, pointer) in sorted(STREAM_SOURCES.items())
    }
    for stream, extras in STREAM_EXTRAS.items():
        if stream in schemas:
            for name, extra in extras.items():
                column = dict(extra)
                if name not in keys.get(stream, frozenset()):
                    _allow_null(column)
                schemas[stream]["properties"][name] = column
    for (stream, field_path), extra_types in REAL_TYPES.items():
        if stream not in schemas:
            continue
        node = schemas[stream]
        for name in field_path:
            node = node["properties"][name]
        node["type"] = sorted({*_as_list(node["type"]), *extra_types}, key=TYPE_ORDER.index)
    for (stream, name), schema in UNLISTED_FIELDS.items():
        if stream not in schemas:
            continue
        properties = schemas[stream]["properties"]
        if name in properties:
            raise SpecError(f"{stream}.{name} is in the spec now: drop it from UNLISTED_FIELDS")
        properties[name] = dict(schema)
    for stream in streams_tracking_deletions() & schemas.keys():
        schemas[stream]["properties"][DELETED_AT] = {
            "type": ["string", "null"],
            "format": "date-time",
        }
    return schemas


def render(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    spec_path = Path(args[0]) if args else DEFAULT_SPEC
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    derived = derive_all(spec)
    drifted = []
    for stream, schema in derived.items():
        target = SCHEMA_DIR / f"{stream}.json"
        text = render(schema)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        drifted.append(stream)
        if not check:
            target.write_text(text, encoding="utf-8")
    verb = "differ from the spec" if check else "written"
    print(f"{len(drifted)} schema file(s) {verb}: {', '.join(drifted) or '-'}")
    return 1 if check and drifted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

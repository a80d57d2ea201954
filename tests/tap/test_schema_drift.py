"""The committed stream schemas are exactly what scripts/derive_tap_schemas.py makes of the spec."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tap_calendly.streams import STREAM_TYPES

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO_ROOT / "tap_calendly" / "schemas"


def _load_script() -> ModuleType:
    path = REPO_ROOT / "scripts" / "derive_tap_schemas.py"
    spec = importlib.util.spec_from_file_location("derive_tap_schemas", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("derive_tap_schemas", module)
    spec.loader.exec_module(module)
    return module


derive = _load_script()


@pytest.fixture(scope="module")
def derived() -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = derive.derive_all(
        json.loads(derive.DEFAULT_SPEC.read_text())
    )
    return result


def _differences(expected: Any, actual: Any, where: str = "") -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual), key=str):
            if key not in actual:
                found.append(f"{where}/{key}: missing from the committed file")
            elif key not in expected:
                found.append(f"{where}/{key}: not in the spec")
            else:
                found.extend(_differences(expected[key], actual[key], f"{where}/{key}"))
        return found
    return [] if expected == actual else [f"{where}: spec says {expected!r}, file has {actual!r}"]


@pytest.mark.parametrize("stream", sorted(derive.STREAM_SOURCES))
def test_committed_schema_matches_the_spec(stream: str, derived: dict[str, Any]) -> None:
    committed = json.loads((SCHEMA_DIR / f"{stream}.json").read_text())
    drift = _differences(derived[stream], committed)
    assert not drift, (
        f"tap_calendly/schemas/{stream}.json drifted from the spec; run "
        f"scripts/derive_tap_schemas.py:\n" + "\n".join(drift[:20])
    )


def test_every_stream_has_a_derived_schema_and_no_file_is_orphaned() -> None:
    streams = {stream_type.name for stream_type in STREAM_TYPES}
    files = {path.stem for path in SCHEMA_DIR.glob("*.json")}
    assert streams == set(derive.STREAM_SOURCES) == files


@pytest.mark.parametrize("stream_type", STREAM_TYPES, ids=lambda s: s.name)
def test_keys_and_replication_keys_are_never_null(stream_type: Any) -> None:
    properties = json.loads((SCHEMA_DIR / f"{stream_type.name}.json").read_text())["properties"]
    fields = [*stream_type.primary_keys]
    if stream_type.replication_key and stream_type.name != "event_type_hosts":
        fields.append(stream_type.replication_key)
    for field in fields:
        assert field in properties, f"{stream_type.name}.{field} is not in the schema"
        assert "null" not in derive._as_list(properties[field]["type"]), (
            f"{stream_type.name}.{field} is nullable"
        )


MINI_SPEC: dict[str, Any] = {
    "paths": {
        "/things": {
            "get": {
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/List"}}
                        }
                    }
                }
            }
        }
    },
    "components": {
        "schemas": {
            "List": {
                "type": "object",
                "properties": {
                    "collection": {"type": "array", "items": {"$ref": "#/components/schemas/T"}}
                },
            },
            "Status": {"type": "string", "enum": ["a", "b"]},
            "T": {
                "type": "object",
                "required": ["uri", "when", "note", "status", "place"],
                "properties": {
                    "uri": {"type": "string", "format": "uri"},
                    "when": {"type": "string", "format": "date-time"},
                    "note": {"type": ["string", "null"]},
                    "legacy": {"type": "integer", "nullable": True},
                    "status": {"$ref": "#/components/schemas/Status"},
                    "place": {
                        "oneOf": [
                            {
                                "type": "object",
                                "required": ["kind", "address"],
                                "properties": {
                                    "kind": {"type": "string"},
                                    "address": {"type": "string"},
                                },
                            },
                            {
                                "type": "object",
                                "required": ["kind"],
                                "properties": {
                                    "kind": {"type": "string"},
                                    "url": {"type": "string", "format": "uri"},
                                },
                            },
                        ]
                    },
                    "details": {"type": "object", "properties": {}},
                },
            },
        }
    },
}


def test_derivation_rules_on_a_small_spec() -> None:
    schema = derive.Deriver(MINI_SPEC).stream_schema("/things", (), frozenset({"uri", "when"}))
    props = schema["properties"]
    assert props["uri"] == {"type": "string"}  # a key: required, not null; `uri` is prose
    assert props["when"] == {"type": "string", "format": "date-time"}  # replication key
    assert props["note"]["type"] == ["string", "null"]  # 3.1 null in the type list
    assert props["legacy"]["type"] == ["integer", "null"]  # 3.0 nullable, and optional
    # Required by the spec but not a key: real responses send null (or nothing) anyway.
    assert props["status"] == {"type": ["string", "null"]}  # enum left out
    place = props["place"]
    assert place["type"] == ["object", "null"]
    assert place["properties"]["kind"]["type"] == ["string", "null"]  # nested: nullable too
    assert place["properties"]["address"]["type"] == ["string", "null"]
    assert place["properties"]["url"]["type"] == ["string", "null"]
    assert place["additionalProperties"] is True
    assert props["details"]["type"] == ["object", "null"]
    assert props["details"]["additionalProperties"] is True


@pytest.mark.parametrize("stream_type", STREAM_TYPES, ids=lambda s: s.name)
def test_every_field_but_the_keys_accepts_null(stream_type: Any) -> None:
    """Real responses carry nulls and lack keys the spec calls required (invitees.name,
    meeting_notes_html, older records without no_show): a validating loader must not refuse
    them. Old main refused null in 89 such top-level fields."""
    keys = {*stream_type.primary_keys, stream_type.replication_key}
    schema = json.loads((SCHEMA_DIR / f"{stream_type.name}.json").read_text())

    def walk(node: dict[str, Any], where: str, top: bool) -> None:
        for name, prop in (node.get("properties") or {}).items():
            if not (top and name in keys):
                assert "null" in derive._as_list(prop["type"]), f"{where}.{name} refuses null"
            walk(prop, f"{where}.{name}", False)
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{where}[]", False)

    walk(schema, stream_type.name, True)


def test_real_types_and_documented_fields_the_spec_lacks_are_declared() -> None:
    invitees = json.loads((SCHEMA_DIR / "invitees.json").read_text())["properties"]
    amount = invitees["payment"]["properties"]["amount"]["type"]
    assert {"string", "number", "null"} <= set(amount)  # real payments send a JSON number
    events = json.loads((SCHEMA_DIR / "scheduled_events.json").read_text())["properties"]
    assert events["booking_method"]["type"] == ["string", "null"]
    assert ("scheduled_events", "booking_method") in derive.UNLISTED_FIELDS


def test_check_mode_reports_drift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(MINI_SPEC))
    monkeypatch.setattr(derive, "STREAM_SOURCES", {"things": ("/things", ())})
    monkeypatch.setattr(derive, "SCHEMA_DIR", tmp_path)
    assert derive.main([str(spec_file), "--check"]) == 1  # no file yet
    assert derive.main([str(spec_file)]) == 0
    assert derive.main([str(spec_file), "--check"]) == 0
    (tmp_path / "things.json").write_text("{}\n")
    assert derive.main([str(spec_file), "--check"]) == 1

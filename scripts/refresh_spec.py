"""Replace the repository's copy of Calendly's OpenAPI document and everything derived from it.

Usage: python scripts/refresh_spec.py NEWER_SPEC [--from WHERE]
       python scripts/refresh_spec.py --check

NEWER_SPEC (an OpenAPI JSON file) is copied to spec/calendly/openapi.json; the "This copy"
section of spec/calendly/SOURCE.md is rewritten with its size, hash and contents (WHERE, e.g.
the URL or repository commit it came from, is recorded there too); then the stream schemas
(derive_tap_schemas.py) and the sandbox's facts (derive_sandbox_facts.py) are derived anew.
Review the diff, say where the file came from in SOURCE.md's prose, and run the tests.

With --check, nothing is written; the exit status says whether SOURCE.md describes the copy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import derive_sandbox_facts
import derive_tap_schemas

SPEC_PATH: Path = derive_tap_schemas.DEFAULT_SPEC
SOURCE_PATH = SPEC_PATH.with_name("SOURCE.md")
METHODS = ("get", "post", "patch", "delete", "put")
SECTION = re.compile(r"(## This copy\n).*?(?=\n## |\Z)", re.S)


def describe(source: bytes, origin: str | None) -> str:
    """The "This copy" section of SOURCE.md for the spec `source`."""
    doc: dict[str, Any] = json.loads(source)
    methods = Counter(m for item in doc["paths"].values() for m in item if m in METHODS)
    per_method = ", ".join(f"{n} {m.upper()}" for m, n in methods.most_common())
    lines = [
        "Written by `scripts/refresh_spec.py`; a test checks it against the file.",
        "",
        f"- `openapi.json`: {len(source):,} bytes, sha256 `{hashlib.sha256(source).hexdigest()}`",
        f"- `openapi: {doc['openapi']}`; `info.title: {doc['info']['title']!r}`; "
        f"`info.version: {doc['info']['version']!r}`",
        f"- {len(doc['paths'])} paths, {methods.total()} operations ({per_method}), "
        f"{len(doc.get('components', {}).get('schemas', {}))} component schemas",
    ]
    if origin:
        lines.append(f"- Refreshed from: {origin}")
    return "\n".join(lines) + "\n"


def recorded_origin(source_md: str) -> str | None:
    match = re.search(r"^- Refreshed from: (.+)$", section_of(source_md), re.M)
    return match.group(1) if match else None


def section_of(source_md: str) -> str:
    match = SECTION.search(source_md)
    if match is None:
        raise SystemExit(f"{SOURCE_PATH} has no '## This copy' section")
    return match.group(0)


def with_section(source_md: str, section: str) -> str:
    return SECTION.sub(lambda m: m.group(1) + "\n" + section, source_md, count=1)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", nargs="?", type=Path, help="the newer OpenAPI JSON document")
    parser.add_argument("--from", dest="origin", help="where the newer document came from")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    source_md = SOURCE_PATH.read_text(encoding="utf-8")

    if args.check:
        expected = with_section(
            source_md, describe(SPEC_PATH.read_bytes(), recorded_origin(source_md))
        )
        if expected != source_md:
            print(f"{SOURCE_PATH} does not describe {SPEC_PATH}; rerun {Path(__file__).name}")
            return 1
        return 0
    if args.spec is None:
        parser.error("give the newer spec (or --check)")

    source = args.spec.read_bytes()
    try:
        doc = json.loads(source)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not {"openapi", "paths"} <= doc.keys():
        print(f"{args.spec} is not an OpenAPI JSON document", file=sys.stderr)
        return 2
    SPEC_PATH.write_bytes(source)
    SOURCE_PATH.write_text(with_section(source_md, describe(source, args.origin)), "utf-8")
    print(f"wrote {SPEC_PATH} and its description in {SOURCE_PATH}")
    return derive_tap_schemas.main([]) or derive_sandbox_facts.main([])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

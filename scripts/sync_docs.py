"""Regenerate what meltano.yml, hub/ and docs/ say about the plugins, from the code.

Usage: python scripts/sync_docs.py [--check]

- meltano.yml: each Calendly plugin's `capabilities`, `settings` and `settings_group_validation`,
  edited in place as YAML (a ruamel round trip: comments and everything else stay as they are).
- hub/: the Meltano Hub plugin definitions (whole files): tap-calendly and target-calendly from
  their `--about`; the loaders of loaders/ (target-duckdb, target-postgres) from their blocks in
  meltano.yml, installed from this repository's subfolder.
- docs/: the reference tables, between marker comments: each plugin's settings
  (`--about --format markdown`) in docs/settings.md, the streams (the stream classes) in
  docs/streams.md, the actions (target_calendly.actions.ACTIONS) in docs/actions.md.

The check compares meaning, not text: meltano.yml and the hub files are parsed and their values
compared with what `--about` says, so a meltano.yml that Meltano's own CLI rewrote (`meltano
select`, `config set`, `add`: it re-quotes, reorders keys, drops comments, expands anchors) passes
as long as it still says the same. With --check nothing is written; the exit code is 1 on drift.
"""

from __future__ import annotations

import inspect
import io
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

REPO_ROOT = Path(__file__).resolve().parents[1]
GENERATOR = "scripts/sync_docs.py"

# What a Meltano Hub definition says that `--about` does not.
PLUGIN_TYPES = {"tap-calendly": "extractors", "target-calendly": "loaders"}
NAMESPACES = {"tap-calendly": "tap_calendly", "target-calendly": "target_calendly"}
HUB_DESCRIPTIONS = {
    "tap-calendly": "Scheduling platform: users, event types, scheduled events and invitees, "
    "routing forms, availability, webhooks and the activity log",
    "target-calendly": "Scheduling platform: cancel events, mark no-shows, create single-use "
    "scheduling links, invite or remove users, GDPR deletions, from warehouse records",
}
HUB_KEYWORDS = {
    "tap-calendly": ["api", "meltano_sdk", "scheduling"],
    "target-calendly": ["api", "meltano_sdk", "scheduling", "reverse_etl"],
}
# The loaders of loaders/ published as Hub definitions, with the label the Hub shows; the rest of
# each definition is its block in meltano.yml and its pyproject.toml's description.
HUB_LOADERS = {
    "target-duckdb": "DuckDB (row-safe target-duckdb 0.8.0)",
    "target-postgres": "PostgreSQL (MeltanoLabs target-postgres for Calendly data)",
}
# Complete credential sets; calendly_http.settings.ClientSettings.from_config accepts exactly these.
CREDENTIAL_GROUPS = [
    ["token"],
    ["client_id", "client_secret", "refresh_token"],
    ["client_id", "client_secret", "refresh_token_path"],
]


def repository_url() -> str:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    url: str = project["project"]["urls"]["Repository"]
    return url.rstrip("/")


def variant() -> str:
    """The Hub variant is the repository's owner, as for every Hub plugin."""
    return repository_url().split("/")[-2].lower()


def executable(name: str) -> str:
    """The plugin's console script in the interpreter's own environment (the repo's .venv)."""
    candidate = Path(sys.executable).parent / name
    if not candidate.exists():
        raise SystemExit(f"{name} is not installed in {candidate.parent}; run `make install` first")
    return str(candidate)


def about(name: str, fmt: str) -> str:
    result = subprocess.run(
        [executable(name), "--about", "--format", fmt],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout


def about_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(about(name, "json"))
    return data


# -- plugin definitions (meltano.yml and hub/) ----------------------------------------------------

# No `number`: no Meltano kind passes a number from the environment on as one (`decimal` crashes),
# so number settings accept their text too (calendly_plugin.settings.NUMBER) and are `string`.
_KIND_BY_TYPE = {
    "boolean": "boolean",
    "integer": "integer",
    "array": "array",
    "object": "object",
}


def json_types(schema: Mapping[str, Any]) -> list[str]:
    """The non-null JSON types a property schema allows (looking into anyOf/oneOf)."""
    found: list[str] = []
    declared = schema.get("type")
    if isinstance(declared, str):
        found.append(declared)
    elif isinstance(declared, list):
        found.extend(declared)
    for key in ("anyOf", "oneOf"):
        for variant_schema in schema.get(key, []):
            found.extend(json_types(variant_schema))
    return [t for t in dict.fromkeys(found) if t != "null"]


def meltano_kind(name: str, schema: Mapping[str, Any]) -> str:
    types = json_types(schema)
    if types == ["number"]:
        raise ValueError(
            f"setting {name}: a number Meltano passes from the environment arrives as text; "
            "declare it number-or-text (calendly_plugin.settings.NUMBER)"
        )
    if types == ["string"] and schema.get("enum"):
        return "options"
    if len(types) == 1 and types[0] in _KIND_BY_TYPE:
        return _KIND_BY_TYPE[types[0]]
    if types == ["string"] and schema.get("format") == "date-time":
        return "date_iso8601"
    if "object" in types:
        return "object"
    return "string"


_ACRONYMS = {"api": "API", "url": "URL", "id": "ID", "oauth": "OAuth", "uri": "URI"}


def label(name: str, schema: Mapping[str, Any]) -> str:
    title = schema.get("title")
    if isinstance(title, str) and title:
        return title
    words = [_ACRONYMS.get(word, word) for word in name.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def setting_definition(name: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """One Meltano setting, keys in the order Meltano itself writes them."""
    kind = meltano_kind(name, schema)
    setting: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "label": label(name, schema),
        "description": " ".join(str(schema.get("description") or label(name, schema)).split()),
    }
    if schema.get("secret") or schema.get("writeOnly"):
        setting["sensitive"] = True
    if kind == "options":
        setting["options"] = [
            {"label": str(v), "value": v} for v in schema["enum"] if v is not None
        ]
    return setting


def project_definition(about_data: Mapping[str, Any]) -> dict[str, Any]:
    """What meltano.yml declares for a plugin, derived from its `--about`."""
    properties: Mapping[str, Any] = about_data.get("settings", {}).get("properties", {})
    return {
        "capabilities": list(about_data.get("capabilities", [])),
        "settings_group_validation": [list(group) for group in CREDENTIAL_GROUPS],
        "settings": [setting_definition(name, schema) for name, schema in properties.items()],
    }


def hub_definition(name: str, about_data: Mapping[str, Any]) -> dict[str, Any]:
    """The plugin's Meltano Hub definition (the Hub's extractor / loader YAML shape)."""
    repo = repository_url()
    return {
        "name": name,
        "namespace": NAMESPACES[name],
        "variant": variant(),
        "label": "Calendly",
        "description": HUB_DESCRIPTIONS[name],
        "logo_url": f"/assets/logos/{PLUGIN_TYPES[name]}/calendly.png",
        "domain_url": "https://developer.calendly.com/api-docs",
        "pip_url": f"git+{repo}.git",
        "executable": name,
        "repo": repo,
        "docs": f"{repo}#readme",
        "keywords": HUB_KEYWORDS[name],
        "maintenance_status": "beta",
        "quality": "silver",
        **project_definition(about_data),
    }


def hub_loader_definition(root: Path, project: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A loader of loaders/ as the Hub would list it: meltano.yml's block, installed from the
    repository's subfolder that block installs from (`pip_url: ./loaders/<name>`)."""
    plugin = next(p for p in project["plugins"]["loaders"] if p["name"] == name)
    folder = str(plugin["pip_url"]).removeprefix("./")
    pyproject = tomllib.loads((root / folder / "pyproject.toml").read_text(encoding="utf-8"))
    repo = repository_url()
    return {
        "name": name,
        "namespace": plugin["namespace"],
        "variant": variant(),
        "label": HUB_LOADERS[name],
        "description": pyproject["project"]["description"],
        "pip_url": f"git+{repo}.git#subdirectory={folder}",
        "executable": plugin["executable"],
        "repo": repo,
        "docs": f"{repo}/blob/main/docs/installing.md",
        "settings": plugin["settings"],
    }


def hub_path(root: Path, name: str) -> Path:
    kind = "loaders" if name in HUB_LOADERS else PLUGIN_TYPES[name]
    return root / "hub" / kind / name / f"{variant()}.yml"


def _meaning(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A definition reduced to what it means: orders and spelling that Meltano ignores dropped."""
    meaning = {k: v for k, v in definition.items() if k not in {"capabilities", "settings"}}
    meaning["capabilities"] = sorted(definition.get("capabilities") or [])
    meaning["settings"] = {s["name"]: dict(s) for s in definition.get("settings") or []}
    groups = definition.get("settings_group_validation") or []
    meaning["settings_group_validation"] = sorted(sorted(group) for group in groups)
    return meaning


def definition_drift(where: str, found: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """Each difference in meaning, named: `where: settings.on_error: kind is 'string', --about says 'options'`."""
    have, want = _meaning(found), _meaning(wanted)
    problems = []
    for key in sorted(set(want) - {"settings"}):
        if have.get(key) != want[key]:
            problems.append(f"{where}: {key} is {have.get(key)!r}, --about says {want[key]!r}")
    for setting in sorted(set(have["settings"]) | set(want["settings"])):
        if setting not in want["settings"]:
            problems.append(f"{where}: setting {setting} is not in --about")
        elif setting not in have["settings"]:
            problems.append(f"{where}: setting {setting} is missing")
        elif have["settings"][setting] != want["settings"][setting]:
            problems.append(
                f"{where}: setting {setting} is {have['settings'][setting]}, "
                f"--about says {want['settings'][setting]}"
            )
    return problems


def project_plugin(meltano_yml: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    for plugin in (meltano_yml.get("plugins") or {}).get(PLUGIN_TYPES[name]) or []:
        if plugin.get("name") == name:
            found: Mapping[str, Any] = plugin
            return found
    return None


def meltano_yml_drift(path: Path, abouts: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What a project file says about the plugins that `--about` does not (parsed, not diffed)."""
    project = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = []
    for name, about_data in abouts.items():
        plugin = project_plugin(project, name)
        if plugin is None:
            problems.append(f"{path.name}: plugin {name} is not declared")
            continue
        wanted = project_definition(about_data)
        found = {key: plugin.get(key) for key in wanted}
        problems += definition_drift(f"{path.name} {name}", found, wanted)
    return problems


def hub_drift(root: Path, abouts: Mapping[str, Mapping[str, Any]]) -> list[str]:
    problems = []
    for name, about_data in abouts.items():
        path = hub_path(root, name)
        if not path.exists():
            problems.append(f"{path.relative_to(root)} is missing")
            continue
        found = yaml.safe_load(path.read_text(encoding="utf-8"))
        problems += definition_drift(
            str(path.relative_to(root)), found, hub_definition(name, about_data)
        )
    project = yaml.safe_load((root / "meltano.yml").read_text(encoding="utf-8"))
    for name in HUB_LOADERS:
        path = hub_path(root, name)
        found = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
        if found != hub_loader_definition(root, project, name):
            problems.append(f"{path.relative_to(root)} differs from {name} in meltano.yml")
    return problems


def _round_trip_yaml() -> YAML:
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096
    rt.indent(mapping=2, sequence=2, offset=0)
    return rt


def _commented(value: Any) -> Any:
    if isinstance(value, Mapping):
        return CommentedMap((k, _commented(v)) for k, v in value.items())
    if isinstance(value, list):
        return CommentedSeq(_commented(v) for v in value)
    return value


def _last_slot(node: Any) -> tuple[Any, Any] | None:
    """The innermost (container, key) that ends a YAML node: where ruamel keeps the comment lines
    that follow it (e.g. the comment above the next plugin)."""
    slot = None
    while isinstance(node, CommentedMap | CommentedSeq) and len(node):
        key = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        slot, node = (node, key), node[key]
    return slot


def _move_trailing_comment(old: Any, new: Any) -> None:
    old_slot, new_slot = _last_slot(old), _last_slot(new)
    if old_slot is None or new_slot is None:
        return
    (old_node, old_key), (new_node, new_key) = old_slot, new_slot
    entry = old_node.ca.items.pop(old_key, None)
    position = 2 if isinstance(old_node, CommentedMap) else 0
    if not entry or entry[position] is None:
        return
    slot = [None, None, None, None] if isinstance(new_node, CommentedMap) else [None]
    slot[2 if isinstance(new_node, CommentedMap) else 0] = entry[position]
    new_node.ca.items[new_key] = slot


def render_meltano_yml(text: str, abouts: Mapping[str, Mapping[str, Any]]) -> str:
    """The file with each plugin's generated keys replaced in place; comments elsewhere are kept,
    including those that follow a replaced block."""
    rt = _round_trip_yaml()
    project = rt.load(text)
    for name, about_data in abouts.items():
        plugin = project_plugin(project, name)
        if plugin is None:
            raise SystemExit(f"meltano.yml declares no {PLUGIN_TYPES[name][:-1]} {name}")
        for key, value in project_definition(about_data).items():
            new = _commented(value)
            if key in plugin:
                _move_trailing_comment(plugin[key], new)
            plugin[key] = new  # type: ignore[index]
    out = io.StringIO()
    rt.dump(project, out)
    return out.getvalue()


def render_hub_file(name: str, definition: Mapping[str, Any], source: str) -> str:
    header = f"# Generated by {GENERATOR} from {name}'s {source}: do not edit.\n"
    return header + yaml.safe_dump(dict(definition), sort_keys=False, allow_unicode=True, width=100)


# -- docs/: generated reference tables -----------------------------------------------------------


def replace_block(
    text: str, begin_pattern: str, end_marker: str, render: Callable[[str], list[str]]
) -> str:
    """Replace the lines between the line matching `begin_pattern` and the next `end_marker` line."""
    match = re.search(rf"^(?P<indent>[ \t]*){begin_pattern}.*\n", text, flags=re.MULTILINE)
    if match is None:
        raise SystemExit(f"marker not found: {begin_pattern!r}")
    end = text.find(end_marker, match.end())
    if end < 0:
        raise SystemExit(f"end marker {end_marker!r} missing after {begin_pattern!r}")
    end_line_start = text.rfind("\n", 0, end) + 1
    inner = "".join(line + "\n" for line in render(match["indent"]))
    return text[: match.end()] + inner + text[end_line_start:]


def settings_section(markdown: str) -> list[str]:
    """The `--about --format markdown` text, its headings moved under the page's level-2 heading."""
    lines = []
    for line in markdown.strip().splitlines():
        heading = re.match(r"^(#+) (.*)$", line)
        lines.append(f"##{heading[1]} {heading[2]}" if heading else line.rstrip())
    return lines


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _codes(names: Iterable[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows),
    ]


def stream_types() -> list[type]:
    """Every stream the tap can emit: STREAM_TYPES, and webhook_events (with `webhook_inbox`)."""
    from tap_calendly.streams import STREAM_TYPES
    from tap_calendly.webhooks import WebhookEventsStream

    return sorted([*STREAM_TYPES, WebhookEventsStream], key=lambda stream: str(stream.name))


def streams_table() -> list[str]:
    """One row per stream class: what it reads, its keys and bookmark, and its docstring."""
    rows = []
    for stream in stream_types():
        path = getattr(stream, "path", None)
        parent = getattr(stream, "parent_stream_type", None)
        rows.append(
            (
                f"`{stream.name}`",
                f"`GET {path}`" if path else "the `webhook_inbox` (SQLite)",
                _codes(stream.primary_keys or ()),
                f"`{stream.replication_key}`" if stream.replication_key else "full table",
                f"`{parent.name}`" if parent else "",
                inspect.cleandoc(stream.__dict__.get("__doc__") or ""),
            )
        )
    header = ("stream", "reads", "primary key", "bookmark", "per record of", "notes")
    return table(header, rows)


def actions_table() -> list[str]:
    """One row per action of target_calendly.actions.ACTIONS."""
    from target_calendly.actions import ACTIONS

    rows = []
    for action in ACTIONS.values():
        alternatives = [e if isinstance(e, tuple) else (e,) for e in action.spec.required]
        required = {name for names in alternatives for name in names}
        optional = _codes(name for name in action.spec.fields if name not in required)
        rows.append(
            (
                f"`{action.name}`" + (" ⚠" if action.destructive else ""),
                action.summary,
                f"`{action.method} {action.path}`",
                ", ".join(" or ".join(f"`{n}`" for n in names) for names in alternatives),
                optional + (", any other column" if action.spec.passthrough else ""),
                "yes" if action.creates else "",
            )
        )
    header = ("action", "what it does", "request", "required", "optional", "ledger")
    note = (
        "⚠: destructive, needs `allow_destructive_actions: true`. Ledger: a create the responses "
        "file guards against replays (above). Ids may be full URIs or bare UUIDs."
    )
    access = [
        (f"`{action.name}`", action.skipped_when, action.scope, action.plan, action.rules)
        for action in ACTIONS.values()
    ]
    access_header = ("action", "`skipped` when", "scope", "plan", "field rules")
    return [*table(header, rows), "", note, "", *table(access_header, access)]


def generated_blocks(markdowns: Mapping[str, str]) -> dict[str, dict[str, list[str]]]:
    """{file: {block name: its lines}}: each block sits between `<!-- >>> NAME: generated ...`
    and `<!-- <<< NAME -->` in the file."""
    return {
        "docs/settings.md": {
            f"{name} settings": settings_section(markdown) for name, markdown in markdowns.items()
        },
        "docs/streams.md": {"streams": streams_table()},
        "docs/actions.md": {"actions": actions_table()},
    }


def render_blocks(text: str, blocks: Mapping[str, list[str]]) -> str:
    for block, lines in blocks.items():
        text = replace_block(
            text, re.escape(f"<!-- >>> {block}: generated"), "<!-- <<< ", lambda _, ls=lines: ls
        )
    return text


def rendered_docs(root: Path, markdowns: Mapping[str, str]) -> dict[Path, str]:
    return {
        root / name: render_blocks((root / name).read_text(encoding="utf-8"), blocks)
        for name, blocks in generated_blocks(markdowns).items()
    }


# -- main -----------------------------------------------------------------------------------------


def abouts() -> dict[str, dict[str, Any]]:
    return {name: about_json(name) for name in PLUGIN_TYPES}


def markdowns() -> dict[str, str]:
    return {name: about(name, "markdown") for name in PLUGIN_TYPES}


def drift(root: Path = REPO_ROOT) -> list[str]:
    """Every way the project's files disagree with the code; empty when current."""
    about_data = abouts()
    problems = meltano_yml_drift(root / "meltano.yml", about_data)
    problems += hub_drift(root, about_data)
    for path, text in rendered_docs(root, markdowns()).items():
        if path.read_text(encoding="utf-8") != text:
            problems.append(f"{path.relative_to(root)}: a generated table is out of date")
    return problems


def write(root: Path = REPO_ROOT) -> list[str]:
    """Regenerate every managed file; returns the ones that changed."""
    about_data = abouts()
    wanted = rendered_docs(root, markdowns())
    meltano_yml = root / "meltano.yml"
    if meltano_yml_drift(meltano_yml, about_data):  # rewrite only when the meaning differs
        wanted[meltano_yml] = render_meltano_yml(meltano_yml.read_text("utf-8"), about_data)
    for name, data in about_data.items():
        wanted[hub_path(root, name)] = render_hub_file(
            name, hub_definition(name, data), "`--about --format json`"
        )
    project = yaml.safe_load(meltano_yml.read_text(encoding="utf-8"))
    for name in HUB_LOADERS:
        wanted[hub_path(root, name)] = render_hub_file(
            name, hub_loader_definition(root, project, name), "block in meltano.yml"
        )
    changed = []
    for path, text in wanted.items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        changed.append(str(path.relative_to(root)))
    return changed


def main(argv: list[str]) -> int:
    if "--check" in argv:
        problems = drift()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print(f"run `python {GENERATOR}`", file=sys.stderr)
        return 1 if problems else 0
    for name in write():
        print(f"rewrote {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

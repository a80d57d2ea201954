"""meltano.yml, hub/, docs/ and sample_config.json say what the plugins really are and do."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from calendly_sandbox import Sandbox

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def load_sync_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "sync_docs", REPO_ROOT / "scripts" / "sync_docs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def meltano_yml() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text(encoding="utf-8"))
    return data


def plugins() -> dict[str, dict[str, Any]]:
    declared = meltano_yml()["plugins"]
    return {p["name"]: p for kind in ("extractors", "loaders") for p in declared[kind]}


def test_meltano_yml_hub_and_docs_say_what_the_code_says() -> None:
    """Compared by meaning (parsed YAML vs --about), so Meltano's own rewrites of meltano.yml pass."""
    assert load_sync_docs().drift() == [], "run `.venv/bin/python scripts/sync_docs.py`"


def test_every_secret_is_sensitive_in_meltano_yml() -> None:
    for name in ("tap-calendly", "target-calendly"):
        about = json.loads(
            subprocess.run(
                [str(BIN / name), "--about", "--format", "json"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        secrets = {k for k, v in about["settings"]["properties"].items() if v.get("secret")}
        sensitive = {s["name"] for s in plugins()[name]["settings"] if s.get("sensitive")}

        assert secrets, f"{name} declares no secret setting"
        assert sensitive == secrets, name


def test_plugins_install_without_meltano_hub() -> None:
    for name, plugin in plugins().items():
        assert "variant" not in plugin, name
        assert plugin.get("pip_url"), name
        assert plugin.get("namespace"), name
        assert plugin.get("executable"), name


def test_prod_environment_takes_credentials_from_the_environment_only() -> None:
    environments = {e["name"]: e for e in meltano_yml()["environments"]}
    assert meltano_yml()["default_environment"] == "sandbox"
    for kind in ("extractors", "loaders"):
        for plugin in environments["prod"]["config"]["plugins"][kind]:
            config = plugin["config"]
            for secret in ("token", "client_secret", "refresh_token"):
                assert re.fullmatch(r"\$[A-Z_]+", config[secret]), (plugin["name"], secret)


def test_sample_config_matches_the_sandbox_make_target(tmp_path: Path) -> None:
    """sample_config.json points where `make sandbox` listens, and the tap runs with it."""
    sample = json.loads((REPO_ROOT / "sample_config.json").read_text(encoding="utf-8"))
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    port = re.search(r"calendly-sandbox --port (\d+)", makefile)
    assert port is not None
    assert sample["api_url"] == f"http://127.0.0.1:{port[1]}"

    with Sandbox(seed=3, events=20) as sandbox:
        config = tmp_path / "config.json"
        config.write_text(json.dumps({**sample, "api_url": sandbox.base_url}), encoding="utf-8")
        result = subprocess.run(
            [str(BIN / "tap-calendly"), "--config", str(config), "--test"],
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert result.returncode == 0, result.stderr[-2000:]
    assert sum('"type":"RECORD"' in line.replace(" ", "") for line in result.stdout.splitlines())


def test_readme_fits_a_page_and_its_links_resolve() -> None:
    """The README stays a page a person reads; the reference lives in docs/."""
    readme = (REPO_ROOT / "README.md").read_bytes()
    links = re.findall(r"\]\(([^)#:]+)\)", readme.decode("utf-8"))

    assert len(readme) < 16_000
    assert links and [link for link in links if not (REPO_ROOT / link).exists()] == []

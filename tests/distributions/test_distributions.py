"""What a user's environment gets from each distribution: no stray top-level names, only the
runtime dependencies the code imports, and the Python versions CI tests, stated consistently."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from tests.distributions.conftest import PROJECTS, ROOT, Wheel

OWN_PACKAGES = {
    "calendly_http",
    "calendly_plugin",
    "calendly_sandbox",
    "calendly_webhooks",
    "tap_calendly",
    "target_calendly",
}
# What CI runs the suite on (this machine's only Python); the metadata must claim exactly these.
TESTED_PYTHONS = {f"{sys.version_info.major}.{sys.version_info.minor}"}


def test_plugin_wheel_installs_only_the_plugin_packages(wheels: dict[str, Wheel]) -> None:
    # demo/ (imports duckdb), bench/, scripts/ and the sandbox stay out of a Meltano plugin venv
    assert wheels["calendly-connectors"].top_level_names() == {
        "calendly_http",
        "calendly_plugin",
        "calendly_webhooks",  # the receiver, and the inbox format the tap reads
        "tap_calendly",
        "target_calendly",
    }


def test_sandbox_wheel_installs_only_the_sandbox(wheels: dict[str, Wheel]) -> None:
    wheel = wheels["calendly-sandbox"]
    assert wheel.top_level_names() == {"calendly_sandbox"}
    assert "calendly_sandbox/spec_facts.json" in wheel.names()  # data the server reads at start


def test_loader_wheels_install_only_their_package(loader_wheels: dict[str, Wheel]) -> None:
    assert {name: wheel.top_level_names() for name, wheel in loader_wheels.items()} == {
        "target-duckdb-rowsafe": {"target_duckdb_rowsafe"},
        "target-postgres-calendly": {"target_postgres_calendly"},
    }


def test_wheels_pass_twine_check(wheels: dict[str, Wheel], loader_wheels: dict[str, Wheel]) -> None:
    paths = [str(wheel.path) for wheel in (*wheels.values(), *loader_wheels.values())]
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *paths],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _third_party_imports(package: str) -> dict[str, set[str]]:
    """Top-level module -> files importing it, for every non-stdlib, non-own import of a package."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in OWN_PACKAGES | {"__future__"}:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


# Files whose third-party imports may come from an extra instead of the base dependencies.
EXTRA_BY_FILE = {
    "calendly_webhooks/app.py": "webhooks",
    "calendly_webhooks/cli.py": "webhooks",
    "calendly_webhooks/__main__.py": "webhooks",
    "calendly_webhooks/server.py": "webhooks",
}


def _declared(wheel: Wheel, extra: str | None = None) -> set[str]:
    """The distributions a plain install (or one with `extra`) pulls in."""
    requirements = [Requirement(r) for r in wheel.metadata().get_all("Requires-Dist") or []]
    return {
        metadata_name(r.name)
        for r in requirements
        if not r.marker or (extra and r.marker.evaluate({"extra": extra}))
    }


def metadata_name(name: str) -> str:
    return name.lower().replace("_", "-")


def _distribution_of(module: str) -> set[str]:
    return {metadata_name(d) for d in metadata.packages_distributions().get(module, [])}


def test_every_runtime_import_is_a_declared_dependency(wheels: dict[str, Wheel]) -> None:
    for distribution, packages in {
        "calendly-connectors": [
            "calendly_http",
            "calendly_plugin",
            "calendly_webhooks",
            "tap_calendly",
            "target_calendly",
        ],
        "calendly-sandbox": ["calendly_sandbox"],
    }.items():
        wheel = wheels[distribution]
        undeclared = {
            f"{module} (in {file})"
            for package in packages
            for module, files in _third_party_imports(package).items()
            for file in files
            if not _distribution_of(module) & _declared(wheel, EXTRA_BY_FILE.get(file))
        }
        assert not undeclared, (
            f"{distribution} imports what it does not declare: {sorted(undeclared)}"
        )


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_what_the_plugins_import_needs_no_extra() -> None:
    """Only the receiver's entry modules use the [webhooks] extra, and nothing else imports them
    (the tap imports calendly_webhooks.inbox, which must work in a venv without the extra)."""
    extra_modules = {file.removesuffix(".py").replace("/", ".") for file in EXTRA_BY_FILE}
    offenders = {
        f"{path.relative_to(ROOT)} imports {module}"
        for package in OWN_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if str(path.relative_to(ROOT)) not in EXTRA_BY_FILE
        for module in _imported_modules(path) & extra_modules
    }
    assert not offenders, sorted(offenders)


def test_every_runtime_dependency_is_used(wheels: dict[str, Wheel]) -> None:
    """A declared dependency no code imports is weight in every plugin venv (pendulum and backoff
    were declared while timestamps and retry waits were hand-written)."""
    imported = {
        distribution
        for package in (
            "calendly_http",
            "calendly_plugin",
            "calendly_webhooks",
            "tap_calendly",
            "target_calendly",
        )
        for module in _third_party_imports(package)
        for distribution in _distribution_of(module)
    }
    unused = _declared(wheels["calendly-connectors"]) - imported
    assert not unused, sorted(unused)


def test_no_development_tool_is_a_runtime_dependency(wheels: dict[str, Wheel]) -> None:
    dev_only = {"duckdb", "meltano", "pytest", "requests-mock", "openapi-core", "ruff", "mypy"}
    for wheel in wheels.values():
        assert not _declared(wheel) & dev_only, wheel.path.name


def test_metadata_claims_exactly_the_tested_python_versions(wheels: dict[str, Wheel]) -> None:
    for wheel in wheels.values():
        info = wheel.metadata()
        classifiers = {
            c.rsplit("::", 1)[-1].strip()
            for c in info.get_all("Classifier") or []
            if c.startswith("Programming Language :: Python :: 3.")
        }
        allowed = SpecifierSet(info["Requires-Python"])
        candidates = {f"3.{minor}" for minor in range(8, 20)}
        assert classifiers == TESTED_PYTHONS, wheel.path.name
        assert set(allowed.filter(candidates)) == TESTED_PYTHONS, wheel.path.name


def test_plugins_report_their_version_and_pythons(tmp_path: Path) -> None:
    version = metadata.version("calendly-connectors")
    for command in ("tap-calendly", "target-calendly"):
        executable = Path(sys.executable).parent / command
        out = subprocess.run(
            [str(executable), "--version"], capture_output=True, text=True, check=True
        )
        assert f"{command} v{version}," in out.stdout
        about = subprocess.run(
            [str(executable), "--about", "--format", "json"],
            capture_output=True,
            text=True,
            check=True,
        )
        info = json.loads(about.stdout)
        assert info["version"] == version
        assert set(info["supported_python_versions"]) == TESTED_PYTHONS


def test_wheels_built_from_the_sdists_match(
    wheels: dict[str, Wheel], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`python -m build` (sdist, then the wheel from the unpacked sdist) gives the same files,
    for the sandbox too, whose package lives outside its project folder in the repository."""
    for distribution, project in PROJECTS.items():
        out = tmp_path_factory.mktemp(f"sdist-{distribution}")
        subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(project)],
            check=True,
            capture_output=True,
        )
        (from_sdist,) = out.glob("*.whl")
        assert sorted(Wheel(from_sdist).names()) == sorted(wheels[distribution].names())

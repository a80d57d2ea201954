"""`make bench`: measure the tap and the target against the sandbox and write BENCHMARKS.md.

    python -m bench.run [--quick] [--only cpu,requests,rate,scale,target,webhooks,deletions] [--no-profile]
                        [--output BENCHMARKS.md] [--keep] [--code-path DIR]
                        [--save-profile bench/profiles/NAME.md --profile-title TITLE]

Every section runs even if an earlier one failed; a failed section says why in the report.
`--code-path DIR` puts DIR first on the tap's PYTHONPATH: a scratch copy of tap_calendly or
calendly_http or calendly_plugin there is measured instead of the installed one, to price a proposed change
before it is made.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import cpu_report, full_sync, requests_report
from bench.deletions import deletions_section
from bench.machine import REPO_ROOT, describe_machine
from bench.plan import Plan
from bench.rate_limit import rate_section
from bench.report import Section, Table, failed_section
from bench.scale import scale_section
from bench.target import target_section
from bench.webhooks import webhooks_sections

SECTIONS = ("cpu", "requests", "rate", "scale", "target", "webhooks", "deletions")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def guarded(title: str, measure: Callable[[], list[Section]]) -> list[Section]:
    started = time.perf_counter()
    log(f"{title}: start")
    try:
        sections = measure()
    except Exception as exc:  # a broken section must not hide the others
        traceback.print_exc()
        sections = [failed_section(title, f"{type(exc).__name__}: {exc}")]
    log(f"{title}: done in {time.perf_counter() - started:.0f} s")
    return sections


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a few minutes)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "BENCHMARKS.md")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--code-path", type=Path, help="directory of package copies to measure")
    parser.add_argument(
        "--save-profile",
        type=Path,
        help="also keep this run's profile tables in this file (bench/profiles/*.md are shown "
        "in every later report)",
    )
    parser.add_argument("--profile-title", default="", help="heading of the saved profile")
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {SECTIONS}")
    code_path = args.code_path.resolve() if args.code_path else None
    plan = Plan.quick(code_path) if args.quick else Plan(name="full", code_path=code_path)
    if args.no_profile:
        plan = Plan(**{**plan.__dict__, "profile": False})
    workdir = Path(tempfile.mkdtemp(prefix="calendly-bench-"))
    log(f"plan {plan.name}; work directory {workdir}")
    started = time.perf_counter()
    machine = describe_machine()
    sections: list[Section] = []
    try:
        if only & {"cpu", "requests"}:
            sections += guarded("full and incremental sync", lambda: _sync(plan, workdir, args))
        if "rate" in only:
            sections += guarded("rate limit", lambda: [rate_section(plan, workdir)])
        if "scale" in only:
            sections += guarded("scale", lambda: [scale_section(plan, workdir)])
        if "target" in only:
            sections += guarded("target", lambda: [target_section(plan, workdir)])
        if "webhooks" in only:
            sections += guarded("webhooks", lambda: webhooks_sections(plan, workdir))
        if "deletions" in only:
            sections += guarded("deletions", lambda: [deletions_section(plan, workdir)])
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - started
    command = "make bench" + (
        " (python -m bench.run " + " ".join(sys.argv[1:]) + ")" if sys.argv[1:] else ""
    )
    report = render(machine.rows(), plan, command, elapsed, sections)
    old = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    args.output.write_text(keep_other_sections(old, report))
    log(f"wrote {args.output} after {elapsed / 60:.1f} min")
    return 0


def _sync(plan: Plan, workdir: Path, args: argparse.Namespace) -> list[Section]:
    results = full_sync.measure(plan, workdir)
    sections = [
        cpu_report.cpu_section(results),
        cpu_report.profile_section(results),
        requests_report.requests_section(results),
    ]
    saved = None
    if args.save_profile and results.profile_path is not None:
        saved = args.save_profile.resolve()
        saved.parent.mkdir(parents=True, exist_ok=True)
        where = f", packages first from {plan.code_path}" if plan.code_path else ""
        title = args.profile_title or "Profile"
        saved.write_text(
            cpu_report.profile_markdown(
                results, f"{title} (commit {describe_machine().commit}{where})"
            )
        )
        log(f"saved {saved}")
    recorded = cpu_report.recorded_profiles(exclude=saved)
    if recorded is not None:
        sections.append(recorded)
    return sections


def keep_other_sections(old: str, new: str) -> str:
    """`new` plus the sections of `old` it does not write: the hand-kept "At a glance" summary
    right after the title, and the sections other benches append (bench.webhooks, bench.coverage,
    ...) at the end, so a `make bench` run never drops them."""
    blocks = re.split(r"(?m)^(?=## )", new)
    titles = {block.split("\n", 1)[0] for block in blocks}
    kept = [b for b in re.split(r"(?m)^(?=## )", old)[1:] if b.split("\n", 1)[0] not in titles]
    glance = [b for b in kept if b.startswith("## At a glance")]
    others = [b for b in kept if not b.startswith("## At a glance")]
    parts = blocks[:1] + glance + blocks[1:] + others
    return "".join(part.rstrip("\n") + "\n\n" for part in parts).rstrip("\n") + "\n"


def render(
    machine: list[tuple[str, str]],
    plan: Plan,
    command: str,
    elapsed: float,
    sections: list[Section],
) -> str:
    summary = [
        (s.title.split(":")[0], v.target, v.measured, f"**{v.label}**")
        for s in sections
        for v in s.verdicts
    ]
    parts = [
        "# Benchmarks",
        "Generated by `make bench` (`python -m bench.run`): do not edit by hand, run it again. "
        "Nothing here is asserted by the test suite; these are measurements.",
        "## Machine and versions",
        Table(("", ""), machine).markdown(),
        f"Command: `{command}` (plan `{plan.name}`"
        + (f", packages first from `{plan.code_path}`" if plan.code_path else "")
        + f"). Total wall time: {elapsed / 60:.1f} min. The machine's cores are shared with other "
        "jobs: wall-clock rates vary between runs, and so do CPU seconds (by up to ~20% between "
        "runs made at different times), so compare a change with `--code-path` runs made back "
        "to back. Request counts, 429s, state sizes and record counts do not vary.",
        "How to run: `make bench` (this report); `.venv/bin/python -m bench.run --quick` "
        "(small sizes, a few minutes); `--only cpu,requests,rate,scale,target,webhooks,deletions` for some "
        "sections; `--code-path DIR` to measure package copies in DIR (e.g. a proposed change) "
        "instead of the installed ones; `--save-profile bench/profiles/NAME.md` to keep this "
        "run's profile for later before/after comparisons.",
        "## Summary",
        Table(("Section", "Target", "Measured", "Verdict"), summary).markdown(),
        *(s.markdown() for s in sections),
    ]
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.exit(main())

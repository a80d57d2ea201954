"""Results as data (sections of tables and verdicts) and their Markdown rendering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    caption: str = ""

    def markdown(self) -> str:
        def cell(value: object) -> str:
            return str(value).replace("|", "\\|").replace("\n", " ")

        lines = []
        if self.caption:
            lines += [self.caption, ""]
        lines.append("| " + " | ".join(cell(h) for h in self.headers) + " |")
        lines.append("|" + "|".join("---" for _ in self.headers) + "|")
        lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in self.rows]
        return "\n".join(lines)


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    passed: bool | None  # None: not applicable / could not be measured

    @property
    def label(self) -> str:
        return {True: "PASS", False: "FAIL", None: "n/a"}[self.passed]


@dataclass
class Section:
    title: str
    intro: str = ""
    tables: list[Table] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    preformatted: list[tuple[str, str]] = field(default_factory=list)  # (caption, text)

    def markdown(self) -> str:
        parts = [f"## {self.title}"]
        if self.intro:
            parts.append(self.intro)
        if self.verdicts:
            parts.append(
                Table(
                    ("Target", "Measured", "Verdict"),
                    [(v.target, v.measured, f"**{v.label}**") for v in self.verdicts],
                ).markdown()
            )
        parts += [t.markdown() for t in self.tables]
        for caption, text in self.preformatted:
            parts.append(f"{caption}\n\n```text\n{text.rstrip()}\n```")
        if self.notes:
            parts.append("\n".join(f"- {n}" for n in self.notes))
        return "\n\n".join(parts)


def failed_section(title: str, problem: str) -> Section:
    """A section that could not be measured still appears, saying why."""
    return Section(
        title=title,
        intro=f"Not measured: {problem}",
        verdicts=[Verdict("section runs", "error", False)],
    )


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.1f} MiB"


def pct(share: float) -> str:
    return f"{share * 100:.1f}%"

"""How well redaction holds, measured on a labelled file of cases (eval/redaction.jsonl).

Each case is a text and the same text as it should come out, with every identifier replaced
by its placeholder. Per category, the report counts the identifiers that were caught (their
characters all removed) and the pieces of other text that were wrongly removed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .redact import CPR, EMAIL, PHONE, find_identifiers

_PLACEHOLDERS = (CPR, PHONE, EMAIL)
_SPLIT = re.compile("(" + "|".join(re.escape(p) for p in _PLACEHOLDERS) + ")")


@dataclass(frozen=True)
class RedactionCase:
    """One labelled text: what it says, what it should become, and its category (cpr, phone, amount...)."""

    text: str
    expected: str
    category: str

    def identifiers(self) -> list[tuple[int, int, str]]:
        """The spans of `text` that `expected` replaces, each with its placeholder."""
        parts = _SPLIT.split(self.expected)
        pattern = "".join("(.+?)" if i % 2 else re.escape(p) for i, p in enumerate(parts))
        m = re.fullmatch(pattern, self.text, re.DOTALL)
        if m is None:
            raise ValueError("'expected' is not the text with some spans replaced by [CPR], [TELEFON] or [EMAIL]")
        return [(m.start(k), m.end(k), parts[2 * k - 1]) for k in range(1, len(parts) // 2 + 1)]


@dataclass
class CategoryResult:
    """Counts for one category of cases."""

    cases: int = 0
    identifiers: int = 0
    caught: int = 0
    wrongly_removed: int = 0  # found spans that reach into text that should have been kept
    exact: int = 0  # cases whose output is exactly the expected text
    missed: list[str] = field(default_factory=list)


def load_cases(path: Path) -> list[RedactionCase]:
    """Read a JSON-lines file of {"text", "expected", "category"} objects.

    Raises:
        ValueError: a line is not such an object, naming the file and line.
    """
    cases = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            case = RedactionCase(text=row["text"], expected=row["expected"], category=row["category"])
            if not all(isinstance(v, str) for v in (case.text, case.expected, case.category)):
                raise TypeError
            case.identifiers()
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: expected an object with text, expected and category ({exc!r})") from None
        except ValueError as exc:
            raise ValueError(f"{path}:{n}: {exc}") from None
        cases.append(case)
    if not cases:
        raise ValueError(f"{path}: no cases")
    return cases


def evaluate(cases: list[RedactionCase]) -> dict[str, CategoryResult]:
    """Redact every case and count, per category, identifiers caught and other text wrongly removed."""
    from .redact import redact

    results: dict[str, CategoryResult] = {}
    for case in cases:
        r = results.setdefault(case.category, CategoryResult())
        r.cases += 1
        wanted = case.identifiers()
        found = find_identifiers(case.text)
        removed = set()
        for s in found:
            removed.update(range(s.start, s.end))
        for start, end, _ in wanted:
            r.identifiers += 1
            if set(range(start, end)) <= removed:
                r.caught += 1
            else:
                r.missed.append(case.text[start:end])
        inside = set()
        for start, end, _ in wanted:
            inside.update(range(start, end))
        r.wrongly_removed += sum(1 for s in found if not set(range(s.start, s.end)) <= inside)
        r.exact += redact(case.text) == case.expected
    return results


def report(results: dict[str, CategoryResult], markdown: bool = False) -> str:
    """A table: per category the cases, identifiers caught of all, other text wrongly removed, exact outputs."""
    head = ["category", "cases", "identifiers caught", "wrongly removed", "exact output"]
    rows = []
    total = CategoryResult()
    for name in sorted(results, key=lambda c: (results[c].identifiers == 0, c)):
        r = results[name]
        rows.append([name, str(r.cases), f"{r.caught}/{r.identifiers}", str(r.wrongly_removed), f"{r.exact}/{r.cases}"])
        for attr in ("cases", "identifiers", "caught", "wrongly_removed", "exact"):
            setattr(total, attr, getattr(total, attr) + getattr(r, attr))
    rows.append(["all", str(total.cases), f"{total.caught}/{total.identifiers}", str(total.wrongly_removed),
                 f"{total.exact}/{total.cases}"])
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
        lines = ["  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)).rstrip() for row in [head, *rows]]
    missed = [(name, m) for name, r in sorted(results.items()) for m in r.missed]
    if missed:
        lines.append("")
        lines += [f"missed ({name}): {m!r}" for name, m in missed]
    return "\n".join(lines)

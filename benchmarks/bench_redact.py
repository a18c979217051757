"""Speed of redaction: the evaluation notes, and long or hostile 5,000-character inputs.

    .venv/bin/python benchmarks/bench_redact.py

Each input is redacted several times and the median is printed, with the same input at
10,000 characters beside it: twice the length should take about twice the time (linear, no
backtracking blow-up). Prints a Markdown table for docs/EVAL.md.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matcher.redact import redact  # noqa: E402


def _notes() -> str:
    lines = (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    return " ".join(json.loads(x)["text"] for x in lines if x.strip())


def _inputs(size: int) -> dict[str, str]:
    def fill(unit: str) -> str:
        return (unit * (size // len(unit) + 1))[:size]

    return {
        "evaluation notes (Danish prose)": _notes()[:size],
        "notes full of identifiers": fill("Ring 22 33 44 55, cpr 010190-1234, anna.m@example.dk. "),
        "digits and spaces (1 1 1 ...)": fill("1 "),
        "digits and dots (1.1.1 ...)": fill("1."),
        "one long word before @": fill("a") + "@",
        "a@a@a@ ...": fill("a@"),
        "'at' without 'dot' (Danish 'at')": fill("hun lovede at "),
        "invisible characters between digits": fill("2\u200b"),
    }


def _median_ms(text: str, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        redact(text)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    short, long = _inputs(5000), _inputs(10000)
    print("| input | 5,000 chars | 10,000 chars |")
    print("|---|---|---|")
    for name in short:
        print(f"| {name} | {_median_ms(short[name]):.1f} ms | {_median_ms(long[name]):.1f} ms |")


if __name__ == "__main__":
    main()

"""Evidence precision on the 50 labelled dev notes of eval/evidence.jsonl, per evidence margin.

    MATCHER_INDEX_DIR=... .venv/bin/python benchmarks/evidence_precision.py

For each margin (matcher.engine.EVIDENCE_Z, in standard deviations of a sentence's scores over
the entries; "none" is the engine before issue 13 §4, which quoted the best sentences whatever
their own score) prints a Markdown row: of the labelled provisions in the top 10, the share of
quoted sentences that support them, the share with a supporting sentence quoted, and the share
quoted nothing. The margin is chosen here, on dev; the labels are dev notes only.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matcher import Matcher, Settings, engine  # noqa: E402
from matcher.evidence_eval import evidence_precision, load_evidence_labels  # noqa: E402


def main() -> None:
    m = Matcher.load(Settings.from_env())
    dev = {(row := json.loads(line))["id"]: row["text"]
           for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()}
    labels = load_evidence_labels(ROOT / "eval" / "evidence.jsonl", dev)
    chosen = engine.EVIDENCE_Z
    print(f"encoder {m.encoder.name}, {len(labels)} notes, top 10; engine default EVIDENCE_Z = {chosen}\n")
    print("| margin (z) | suggestions | quoted | precision | covered | silent |")
    print("|---|---|---|---|---|---|")
    for z in (float("-inf"), 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5):
        engine.EVIDENCE_Z = z
        r = evidence_precision(m, labels)
        name = "none" if z == float("-inf") else f"{z:.1f}"
        print(f"| {name} | {r['suggestions']} | {r['quoted']} | {r['precision']:.3f} | {r['covered']:.3f} "
              f"| {r['silent']:.3f} |")
    engine.EVIDENCE_Z = chosen


if __name__ == "__main__":
    main()

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
import numpy as np  # noqa: E402

from matcher.evidence_eval import load_evidence_labels  # noqa: E402


def main() -> None:
    m = Matcher.load(Settings.from_env())
    dev = {(row := json.loads(line))["id"]: row["text"]
           for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()}
    labels = load_evidence_labels(ROOT / "eval" / "evidence.jsonl", dev)
    print(f"encoder {m.encoder.name}, {len(labels)} notes, top 10; engine default EVIDENCE_Z = {engine.EVIDENCE_Z}\n")
    # One match per note: each suggestion's per-sentence scores are kept and the evidence is picked
    # for every margin afterwards with the engine's own rule (engine.pick_evidence).
    seen: list[tuple[set, list[str], np.ndarray, np.ndarray]] = []
    original = engine.Matcher._suggestion

    def keep(self, rank, i, score, sents, per_sent, support):
        s = original(self, rank, i, score, sents, per_sent, support)
        seen.append((current, s.id, list(sents), per_sent.copy(), support.copy()))
        return s

    engine.Matcher._suggestion = keep
    for label in labels:
        current = label
        m.match(label.text, top=10)
    engine.Matcher._suggestion = original
    print("| margin (z) | suggestions | quoted | precision | covered | silent |")
    print("|---|---|---|---|---|---|")
    for z in (float("-inf"), 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5):
        quoted = right = suggested = covered = silent = 0
        for label, entry, sents, per_sent, support in seen:
            if entry not in label.support:
                continue
            picked = [sents[j] for j in engine.pick_evidence(per_sent, support, z)]
            hits = sum(p in label.support[entry] for p in picked)
            suggested += 1
            quoted += len(picked)
            right += hits
            covered += hits > 0
            silent += not picked
        name = "none" if z == float("-inf") else f"{z:.1f}"
        print(f"| {name} | {suggested} | {quoted} | {right / max(quoted, 1):.3f} | {covered / max(suggested, 1):.3f} "
              f"| {silent / max(suggested, 1):.3f} |")


if __name__ == "__main__":
    main()

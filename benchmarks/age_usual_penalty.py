"""MATCHER_AGE_USUAL_PENALTY measured on dev (issue 13 §4): how far kontanthjælp (LAS § 11), bostøtte
(SEL § 85) and botilbud (SEL § 108) drop for a citizen above pension age.

    MATCHER_INDEX_DIR=... .venv/bin/python benchmarks/age_usual_penalty.py

Prints a Markdown row per penalty: hybrid R@5, R@10, MRR@10 on all labelled dev notes and on the
notes with a stated age at or above pension age, and how often one of the three provisions is in
a pensioner's top 5 without being labelled there (the miss of issue 13 §4). Dev only: the test
split is not read.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matcher import Matcher, Settings  # noqa: E402
from matcher.context import PENSION_AGE, stated_age  # noqa: E402
from matcher.engine import prepare_note  # noqa: E402
from matcher.evaluation import load_notes, metrics  # noqa: E402

USUALLY_BELOW = {"las-11", "sel-85", "sel-108"}


def main() -> None:
    m = Matcher.load(Settings.from_env())
    base = m.settings
    notes = [n for n in load_notes(ROOT / "eval", m.corpus) if n.split == "dev" and n.labels]
    ages = {n.id: stated_age(prepare_note(n.text)) for n in notes}
    older = {i for i, age in ages.items() if age is not None and age >= PENSION_AGE}
    # the penalty only moves notes with a stated age: the others are matched once
    fixed = [metrics([s.id for s in m.match(n.text, top=30) if s.kind == "rule"], n.labels)
             for n in notes if ages[n.id] is None]
    print(f"encoder {m.encoder.name}; {len(notes)} labelled dev notes, {len(older)} with a stated age >= "
          f"{PENSION_AGE}; default {base.age_usual_penalty}\n")
    print("| penalty (z) | R@5 | R@10 | MRR@10 | pensioners R@5 | pensioners MRR@10 |"
          " unlabelled LAS 11/SEL 85/108 in a pensioner's top 5 |")
    print("|---|---|---|---|---|---|---|")
    for penalty in (0.0, 0.25, 0.5, 0.75, 1.0, 1.5):
        m.settings = base.replace(age_usual_penalty=penalty)
        rows, old_rows, wrong = list(fixed), [], 0
        for n in (n for n in notes if ages[n.id] is not None):
            ranked = [s.id for s in m.match(n.text, top=30) if s.kind == "rule"]
            r = metrics(ranked, n.labels)
            rows.append(r)
            if n.id in older:
                old_rows.append(r)
                wrong += len((set(ranked[:5]) & USUALLY_BELOW) - set(n.labels))

        def mean(rs, k):
            return float(np.mean([x[k] for x in rs])) if rs else 0.0

        print(f"| {penalty:.2f} | {mean(rows, 'R@5'):.3f} | {mean(rows, 'R@10'):.3f} | {mean(rows, 'MRR@10'):.3f} "
              f"| {mean(old_rows, 'R@5'):.3f} | {mean(old_rows, 'MRR@10'):.3f} | {wrong} |")
    m.settings = base


if __name__ == "__main__":
    main()

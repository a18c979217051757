"""The evaluation set and metrics that docs/EVAL.md reports."""
from __future__ import annotations

import json

import pytest

from matcher.corpus import load_corpus
from matcher.evaluation import load_notes, metrics
from matcher.settings import PROJECT_ROOT

from .conftest import RULES_DIR


def test_metrics_on_a_hand_worked_example():
    m = metrics(["a", "x", "b", "y"], ["b", "a"])
    assert m["R@1"] == 0.5 and m["R@5"] == 1.0 and m["MRR@10"] == 1.0 and m["main@5"] == 1.0
    assert metrics(["a", "b", "c", "d", "e", "f"], ["f", "a"])["main@5"] == 0.0
    assert m["nDCG@10"] == pytest.approx((1 + 1 / 2) / (1 + 1 / 1.584962500721156))
    assert metrics(["x", "y"], ["a"])["MRR@10"] == 0.0
    # R@20 counts a label at rank 12 that R@10 misses
    late = metrics([f"x{i}" for i in range(11)] + ["a"], ["a"])
    assert late["R@10"] == 0.0 and late["R@20"] == 1.0


def test_the_labelled_notes_are_enough_and_name_rules_in_force():
    notes = load_notes(PROJECT_ROOT / "eval", load_corpus(RULES_DIR))
    assert len(notes) >= 120
    assert sum(n.split == "test" for n in notes) >= 40
    assert len({n.id for n in notes}) == len(notes)
    assert sum(not n.labels for n in notes) >= 4  # out-of-scope notes


def test_an_unknown_label_is_refused(tmp_path):
    for split in ("dev", "test"):
        (tmp_path / f"{split}.jsonl").write_text(json.dumps({"id": split, "text": "x", "labels": ["sel-999"]}) + "\n")
    with pytest.raises(ValueError, match="sel-999"):
        load_notes(tmp_path, load_corpus(RULES_DIR))

"""The training notes for the tuned encoder (rules/training/notes.jsonl): well formed, ids that exist,
no repealed or unconfirmed entry as a label, every rule in force reached, and age labels on the right side
of the folkepension line."""
from __future__ import annotations

import collections
import datetime as dt
import json

import pytest

from matcher.corpus import Rule, load_corpus

from .conftest import RULES_DIR

NOTES = RULES_DIR / "training" / "notes.jsonl"
#: ÆL § 22 is a supplier-bankruptcy contingency plan, not a citizen's right; LAS § 34 is repealed (issue 15)
NEVER_LABEL = {"ael-22", "las-34"}
LANGS = {"lang:da", "lang:en", "lang:ar", "lang:uk", "lang:fa", "lang:so"}


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(RULES_DIR)


@pytest.fixture(scope="module")
def notes():
    rows = []
    for n, line in enumerate(NOTES.read_text(encoding="utf-8").splitlines(), 1):
        row = json.loads(line)
        assert isinstance(row, dict), f"line {n}: not an object"
        rows.append((n, row))
    return rows


def test_every_line_is_a_training_note(notes):
    assert len(notes) >= 600
    texts = set()
    for n, row in notes:
        assert isinstance(row["text"], str) and row["text"].strip(), f"line {n}: empty text"
        assert row["text"] not in texts, f"line {n}: the same text twice"
        texts.add(row["text"])
        assert row["labels"] and all(isinstance(i, str) for i in row["labels"]), f"line {n}: no labels"
        assert len(set(row["labels"])) == len(row["labels"]), f"line {n}: a label twice"
        assert isinstance(row.get("hard_negatives", []), list), f"line {n}: hard_negatives not a list"
        assert not set(row["labels"]) & set(row.get("hard_negatives", [])), f"line {n}: label also hard negative"
        assert len(LANGS & set(row.get("tags", []))) == 1, f"line {n}: needs exactly one lang: tag"


def test_ids_exist_and_no_repealed_or_unconfirmed_label(corpus, notes):
    today = dt.date.today()
    for n, row in notes:
        for i in row["labels"] + row.get("hard_negatives", []):
            assert corpus.get(i) is not None, f"line {n}: {i} is not in rules/*.yaml"
        for i in row["labels"]:
            entry = corpus.get(i)
            assert i not in NEVER_LABEL, f"line {n}: {i} must not be a label"
            assert not isinstance(entry, Rule) or entry.in_force(today), f"line {n}: {i} is not in force"


def test_every_rule_in_force_is_labelled_at_least_five_times(corpus, notes):
    counts = collections.Counter(i for _, row in notes for i in row["labels"])
    today = dt.date.today()
    thin = [r.id for r in corpus.rules if r.in_force(today) and r.id not in NEVER_LABEL and counts[r.id] < 5]
    assert not thin, f"rules with fewer than 5 training notes: {thin}"


def test_age_tagged_notes_are_labelled_on_the_right_side_of_pension_age(corpus, notes):
    wrong_side = {"above-pension-age": "below", "below-pension-age": "above"}
    for n, row in notes:
        for tag, bad in wrong_side.items():
            if tag not in row.get("tags", []):
                continue
            for i in row["labels"]:
                entry = corpus.get(i)
                if isinstance(entry, Rule):
                    assert entry.applies_to.pension_age != bad, f"line {n}: {tag} note labelled {i}"

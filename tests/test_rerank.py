"""The re-ranker of the fused top and the per-problem order (tiny corpus, hashing encoder)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from matcher import Matcher, Settings
from matcher.engine import Ranking
from matcher.rerank import MODEL_FILE, per_problem_order, problems, reranker_folder

TRAINING = [
    {"text": "Hun kan ikke selv komme i bad, og rengøringen bliver ikke gjort.", "labels": ["sel-83"]},
    {"text": "Han er ensom og kommer ikke ud; kommunen kunne besøge ham.", "labels": ["ael-4"]},
    {"text": "Køleskabet er tomt, og hun kan ikke lave mad selv.", "labels": ["aalborg-madservice"]},
    {"text": "Rengøringen bliver ikke gjort, og han kan ikke komme i bad.", "labels": ["sel-83"]},
    {"text": "En ensom ældre dame der ikke kommer ud af døren.", "labels": ["ael-4"]},
    {"text": "Hun kan ikke lave mad selv, køleskabet er tomt.", "labels": ["aalborg-madservice"]},
]


@pytest.fixture
def rerank_settings(tiny_rules, tmp_path):
    training = tiny_rules / "training"
    training.mkdir()
    (training / "notes.jsonl").write_text("\n".join(json.dumps(n, ensure_ascii=False) for n in TRAINING),
                                          encoding="utf-8")
    return Settings.from_env({}, rules_dir=tiny_rules, index_dir=tmp_path / "i", encoder="hashing", rerank=True)


def test_the_reranker_is_trained_when_missing_and_kept_with_a_manifest(rerank_settings):
    m = Matcher.load(rerank_settings)
    assert m.reranker is not None
    folder = reranker_folder(rerank_settings.index_dir, m.encoder.name)
    manifest = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
    assert manifest["encoder"] == m.encoder.name and manifest["corpus_hash"] == m.corpus.content_hash
    assert manifest["notes"] == len(TRAINING) and manifest["positives"] == len(TRAINING)
    built = (folder / MODEL_FILE).stat().st_mtime_ns
    again = Matcher.load(rerank_settings)  # loaded, not trained again
    assert (folder / MODEL_FILE).stat().st_mtime_ns == built
    assert np.allclose(again.reranker.coef, m.reranker.coef)
    # stored suggestions say which engine made them
    assert m.version.endswith("+rerank")
    assert not Matcher.load(rerank_settings.replace(rerank=False)).version.endswith("+rerank")


def test_other_training_notes_train_it_again(rerank_settings):
    m = Matcher.load(rerank_settings)
    notes = rerank_settings.rules_dir / "training" / "notes.jsonl"
    notes.write_text(notes.read_text(encoding="utf-8") + "\n" + json.dumps(
        {"text": "Hun er ensom.", "labels": ["ael-4"]}), encoding="utf-8")
    assert Matcher.load(rerank_settings).reranker.manifest["notes"] == len(TRAINING) + 1
    assert m.reranker.manifest["notes"] == len(TRAINING)


def test_without_rebuild_a_missing_reranker_is_not_trained(rerank_settings):
    Matcher.load(rerank_settings.replace(rerank=False))  # builds the index only
    m = Matcher.load(rerank_settings, rebuild=False)
    assert m.reranker is None
    assert not reranker_folder(rerank_settings.index_dir, m.encoder.name).exists()


def test_reranking_reorders_the_same_suggestions_with_falling_scores(rerank_settings):
    m = Matcher.load(rerank_settings)
    note = "Hun kan ikke selv komme i bad. Køleskabet er tomt. Hun er ensom og kommer ikke ud."
    plain = m.match(note, top=10, rerank=False)
    ranked = m.match(note, top=10, rerank=True)
    assert sorted(s.id for s in plain) == sorted(s.id for s in ranked)
    assert [s.score for s in ranked] == sorted((s.score for s in plain), reverse=True)
    # each suggestion keeps its own evidence (a suggestion may quote none: matcher.engine EVIDENCE_Z)
    assert {s.id: s.evidence for s in ranked} == {s.id: s.evidence for s in plain}


def _ranking(per_sentence: list[list[float]], fused: list[float]) -> Ranking:
    per = np.array(per_sentence)
    n = per.shape[1]
    fused = np.array(fused)
    return Ranking(clean="", sentences=[""] * per.shape[0], signals={"_per_sentence": per},
                   alive=np.ones(n, bool), base=fused, lifted=np.zeros(n), wrong_age=np.zeros(n, bool),
                   age=None, child=False, fused=fused, shown=fused / 4, order=np.argsort(-fused, kind="stable"))


def test_sentences_that_agree_on_their_best_entry_are_one_problem():
    # sentences 0 and 1 both match entry 0 best; sentence 2 matches entry 2 best
    r = _ranking([[0.9, 0.8, 0.1, 0.1], [0.8, 0.7, 0.2, 0.1], [0.1, 0.2, 0.9, 0.6]], [3.0, 2.9, 2.0, 1.0])
    assert problems(r, r.order).tolist() == [0, 0, 2, 2]


def test_the_best_entry_of_each_problem_comes_before_a_second_of_one_problem():
    r = _ranking([[0.9, 0.8, 0.1, 0.1], [0.1, 0.2, 0.9, 0.6]], [3.0, 2.9, 2.0, 1.0])
    assert per_problem_order(r, depth=20, slots=5, margin=10.0).tolist() == [0, 2, 1, 3]
    # a second entry that leads by more than the margin keeps its place
    assert per_problem_order(r, depth=20, slots=5, margin=0.5).tolist() == [0, 1, 2, 3]
    # only the first `slots` places are given out by problem
    assert per_problem_order(r, depth=20, slots=1, margin=10.0).tolist() == [0, 1, 2, 3]


def test_both_fits_learn_which_feature_marks_the_label():
    from matcher.rerank import fit

    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 3))
    groups = np.repeat(np.arange(40), 10)
    y = np.zeros(400)
    for g in range(40):  # in each note the candidate highest on feature 1 is the label
        rows = np.flatnonzero(groups == g)
        y[rows[np.argmax(x[rows, 1])]] = 1
    for kw in ({}, {"groups": groups}):
        mean, scale, coef, intercept = fit(x, y, 1.0, **kw)
        assert np.argmax(coef) == 1 and coef[1] > 3 * np.abs(coef[[0, 2]]).max()

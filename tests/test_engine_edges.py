"""Engine behaviour no other test reached (issue 16, section 2): the score cut-off, provisions
for children, the evidence limit, rank fusion, a missing index and matching from many threads."""
from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from matcher import Matcher, Settings
from matcher.dense_index import IndexMismatch

from .conftest import TINY_RULES, write_rules

DAY = dt.date(2026, 9, 1)

CHILD_RULES = {"bl.yaml": """
    entries:
      - id: bl-30
        kind: rule
        law: BL
        section: "§ 30"
        title: Forebyggende støtte til børn og familier
        summary: Støtte når et barn mistrives og ikke kommer i skole.
        applies_to: {groups: [børn og unge], max_age: 17}
        situations: [græder hver morgen og vil ikke i skole, mistrives og bliver hjemme fra skole]
        source_url: https://www.retsinformation.dk/eli/lta/2025/1089
        valid_from: 2025-07-01
      - id: sel-10
        kind: rule
        law: SEL
        section: "§ 10"
        title: Gratis rådgivning
        summary: Kommunen giver gratis rådgivning til alle.
        applies_to: {groups: [alle]}
        situations: [græder hver morgen og har brug for nogen at tale med, har brug for råd om hverdagen]
        source_url: https://www.retsinformation.dk/eli/lta/2025/1089
        valid_from: 2025-07-01
"""}


def _tiny(tmp_path, files=TINY_RULES, **overrides) -> Matcher:
    rules = write_rules(tmp_path / "rules", files)
    return Matcher.load(Settings.from_env({}, rules_dir=rules, index_dir=tmp_path / "i", encoder="hashing",
                                          **overrides))


def test_min_score_drops_the_weak_suggestions(tmp_path):
    """Suggestions whose shown score is below min_score are left out; the rest keep their order."""
    note = "En ensom ældre dame der ikke kommer ud. Besøg fra kommunen ville hjælpe."
    every = _tiny(tmp_path).match(note, on=DAY)
    cut = 0.05
    assert any(s.score < cut for s in every) and any(s.score >= cut for s in every)
    kept = _tiny(tmp_path, min_score=cut).match(note, on=DAY)
    assert [s.id for s in kept] == [s.id for s in every if s.score >= cut]


def test_provisions_for_children_drop_when_no_child_is_mentioned(tmp_path):
    """A children-only provision outranks a general one for a child, and not for an adult."""
    m = _tiny(tmp_path, {**TINY_RULES, **CHILD_RULES})
    child = [s.id for s in m.match("Drengen på 9 år græder hver morgen og vil ikke af sted.", on=DAY)]
    adult = [s.id for s in m.match("Manden græder hver morgen og vil ikke af sted.", on=DAY)]
    assert child.index("bl-30") < child.index("sel-10")
    assert adult.index("sel-10") < adult.index("bl-30")


def test_at_most_three_sentences_are_quoted_as_evidence(tmp_path):
    """However many sentences fit, a suggestion quotes at most three, in the note's order."""
    # a note of six sentences that all say the same thing
    parts = ["Hun kan ikke selv komme i bad.", "Hun kan ikke komme i bad selv.", "Selv i bad kan hun ikke komme.",
             "I bad kan hun ikke selv komme.", "Hun kommer ikke selv i bad.", "Bad kan hun ikke selv klare."]
    note = " ".join(parts)
    m = _tiny(tmp_path)
    sugs = m.match(note, on=DAY)
    # an entry no sentence stands out for quotes none (issue 13 §4); the top one quotes three
    assert all(len(s.evidence) <= 3 for s in sugs)
    top = sugs[0].evidence
    assert len(top) == 3 and top == sorted(top, key=parts.index)


def test_rank_fusion_keeps_the_law_in_force_and_the_age(tmp_path):
    """With fusion=rrf the best suggestion shows 1.0, repealed law stays out and a stated age counts."""
    m = _tiny(tmp_path, fusion="rrf")
    lonely = m.match("En ensom ældre dame der ikke kommer ud. Besøg fra kommunen ville hjælpe.", on=DAY)
    ids = [s.id for s in lonely]
    assert "sel-79a" not in ids and "ael-4" in ids
    assert lonely[0].score == 1.0 and all(0 < s.score <= 1 for s in lonely)
    old = [s.id for s in m.match("Hun er 88 år og kan ikke selv komme i bad. Hun er ensom og kommer ikke ud.",
                                 on=DAY)]
    young = [s.id for s in m.match("Hun er 45 år og kan ikke selv komme i bad. Hun er ensom og kommer ikke ud.",
                                   on=DAY)]
    assert old.index("ael-4") < old.index("sel-83") and young.index("sel-83") < young.index("ael-4")


def test_no_index_with_rebuilding_off_is_a_clear_error_and_writes_nothing(tmp_path):
    """rebuild=False on an empty index folder says how to build it, and builds nothing."""
    rules = write_rules(tmp_path / "rules")
    index_dir = tmp_path / "i"
    settings = Settings.from_env({}, rules_dir=rules, index_dir=index_dir, encoder="hashing")
    with pytest.raises(IndexMismatch, match="matcher index build"):
        Matcher.load(settings, rebuild=False)
    assert not index_dir.exists() or not any(index_dir.rglob("*.faiss"))
    Matcher.load(settings)  # and it builds when allowed
    assert any(index_dir.rglob("*.faiss"))


def test_matching_from_many_threads_gives_the_serial_results(hashing_matcher):
    """The web server matches from several threads at once: the answers must not mix."""
    notes = ["Fru Jensen er 84 år og er faldet i badet. Køleskabet er tomt.",
             "Familien fra Syrien skal lære dansk, og børnene skal i skole.",
             "Han er arbejdsløs og har ikke råd til tandlægen.",
             "De har fået et brev fra kommunen, som de ikke forstår.",
             "Drengen på 9 græder hver morgen og vil ikke i skole."]
    serial = {n: [s.to_dict() for s in hashing_matcher.match(n, top=10, on=DAY)] for n in notes}
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda n: (n, [s.to_dict() for s in hashing_matcher.match(n, top=10, on=DAY)]),
                                notes * 6))
    assert len({n for n, _ in answers}) == len(notes)
    for note, got in answers:
        assert got == serial[note], note

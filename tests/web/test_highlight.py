"""Evidence highlighting of the note."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from web.highlight import Segment, segments


def test_segments_mark_each_suggestions_evidence():
    """Sentences are marked with the suggestions that quote them, overlaps included."""
    text = "Hun falder. Hun har ingen penge. Slut."
    result = segments(text, {1: ["Hun falder."], 2: ["Hun har ingen penge.", "Hun falder."],
                             3: ["Står ikke i teksten."]})
    assert result == [Segment("Hun falder.", (1, 2)), Segment(" ", ()),
                      Segment("Hun har ingen penge.", (2,)), Segment(" Slut.", ())]


def test_no_evidence_leaves_the_text_whole():
    """Without evidence the note is one plain segment (or none when empty)."""
    assert segments("Tekst.", {}) == [Segment("Tekst.", ())]
    assert segments("", {1: ["x"]}) == []


@settings(deadline=None)  # a slow CI machine must not turn this into a timing test
@given(st.text(max_size=200), st.dictionaries(st.integers(0, 5),
                                               st.lists(st.text(max_size=20), max_size=3)))
def test_segments_always_rebuild_the_text(text, evidence):
    """Whatever the evidence, the segments join back into the note."""
    result = segments(text, evidence)
    assert "".join(s.text for s in result) == text
    assert all(s.text for s in result)
    assert all(a.refs != b.refs for a, b in zip(result, result[1:], strict=False))

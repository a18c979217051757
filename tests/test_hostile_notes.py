"""Bounded work whatever a note holds: combining marks, invisible characters, endless sentences."""
from __future__ import annotations

import time
import unicodedata

import pytest

from matcher.engine import _MAX_QUERY_CHARS, _MAX_SENTENCES, MAX_NOTE_CHARS
from matcher.text import MAX_MARKS, MAX_REPEAT, MAX_SENTENCE_CHARS, clean, has_words, sentences

from .hostile_notes import HOSTILE


def test_an_ordinary_note_is_left_as_it_is():
    note = "Ellen på 84 år bor alene i Nørresundby – hun er faldet to gange, og køleskabet er tomt."
    assert clean(note) == note
    assert sentences(note) == [note]


def test_clean_drops_what_costs_tokens_and_means_nothing():
    assert clean("a\u200bb\u200dc\ufeff") == "abc"  # zero-width space, joiner, BOM
    assert clean("e\u0301") == "é"  # NFC
    assert clean("x" + "\u0301" * 40) == "x" + "\u0301" * MAX_MARKS
    assert clean("\u0301\u0301 hej") == " hej"  # marks on nothing
    assert clean("ok \ud800 ok") == "ok  ok"
    assert "\ud800" not in clean(HOSTILE["lone surrogates"])
    assert clean("neeeej, 1000000 kr") == "neeeej, 1000000 kr"  # digits keep their repeats
    assert clean("é" * 2500) == "é" * MAX_REPEAT and clean("!" * 50) == "!" * MAX_REPEAT


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_no_query_is_longer_than_the_bound(name):
    text = clean(HOSTILE[name])
    parts = sentences(text)
    assert parts and all(len(p) <= MAX_SENTENCE_CHARS for p in parts)
    assert all(sum(unicodedata.category(c) == "Mn" for c in p) <= MAX_MARKS * len(p) for p in parts)


def test_splitting_stays_linear_in_the_length_of_a_note():
    """Many short fragments: splitting stays fast and every piece within the bound."""
    start = time.perf_counter()
    parts = sentences("ja nej. " * 25_000)
    assert time.perf_counter() - start < 2.0
    assert all(len(p) <= MAX_SENTENCE_CHARS for p in parts)


@pytest.mark.parametrize("text,expected", [
    ("\u0301" * 300, False),
    ("\u200b\u200c\u200d" * 100, False),
    ("a" + "\u0301" * 4999, False),
    (". , ; " * 50, False),
    ("Hun falder ofte i badet", True),
    ("He\u0301\u0302\u0303llo wo\u0301rld again", True),
])
def test_has_words(text, expected):
    assert has_words(text) is expected


class _Recording:
    """An encoder wrapper that remembers what it was asked to encode."""

    def __init__(self, encoder):
        self._encoder = encoder
        self.texts: list[str] = []

    def __getattr__(self, name):
        return getattr(self._encoder, name)

    def encode_queries(self, texts):
        self.texts.extend(texts)
        return self._encoder.encode_queries(texts)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_the_engine_encodes_a_bounded_amount_of_any_note(hashing_matcher, name):
    recording = _Recording(hashing_matcher.encoder)
    original, hashing_matcher.encoder = hashing_matcher.encoder, recording
    try:
        hashing_matcher.match(HOSTILE[name] * 10)  # beyond what the web app accepts, too
    finally:
        hashing_matcher.encoder = original
    assert 1 <= len(recording.texts) <= _MAX_SENTENCES
    assert all(len(t) <= MAX_SENTENCE_CHARS for t in recording.texts)
    assert sum(len(t) for t in recording.texts) <= _MAX_QUERY_CHARS


def test_the_engine_reads_a_bounded_part_of_a_huge_note(hashing_matcher):
    start = time.perf_counter()
    hashing_matcher.match("Hun kan ikke selv lave mad. " * 40_000)  # about a megabyte
    assert time.perf_counter() - start < 10.0
    assert MAX_NOTE_CHARS >= 5000


def test_a_cpr_number_split_by_a_zero_width_space_is_redacted(hashing_matcher):
    note = "Borgeren har cpr 120345\u200b-1234 og falder ofte i badet, hun kan ikke lave mad."
    found = hashing_matcher.match(note)
    assert all("1234" not in e for s in found for e in s.evidence)

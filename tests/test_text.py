"""Sentence splitting and keyword tokens, which decide evidence and keyword hits."""
from __future__ import annotations

import pytest

from matcher.context import mentions_child, stated_age
from matcher.text import sentences, tokenize


def test_a_note_splits_into_its_sentences():
    note = "Hun er faldet to gange på badeværelset. Køleskabet var helt tomt! Datteren bor i Aarhus\nhun er meget ensom"
    assert sentences(note) == [
        "Hun er faldet to gange på badeværelset.",
        "Køleskabet var helt tomt!",
        "Datteren bor i Aarhus",
        "hun er meget ensom",
    ]


def test_legal_abbreviations_do_not_end_a_sentence():
    assert len(sentences("Hun får hjælp efter § 83, stk. 2. Det er ikke nok.")) == 2


def test_one_word_fragments_join_a_neighbour():
    assert sentences("Ok. Hun har brug for hjælp til rengøring.") == ["Ok. Hun har brug for hjælp til rengøring."]


def test_tokens_are_stemmed_and_free_of_stop_words():
    # inflected forms meet on one stem, so "faldet" in a note finds "falder" in a situation
    assert tokenize("Hun er faldet på badeværelset") == tokenize("faldt badeværelse") == ["fald", "badevær"]
    assert tokenize("falder i badeværelserne") == ["fald", "badevær"]
    assert "hun" not in tokenize("Hun er faldet") and "er" not in tokenize("Hun er faldet")


@pytest.mark.parametrize(
    "text,age",
    [
        ("en dame på 84 år", 84),
        ("han er 52 og har sclerose", 52),
        ("en mand i 50'erne", 50),
        ("she is in her late 70s", 70),
        ("hun er folkepensionist", 67),
        ("familien har børn på 3 og 7 år, moren er 34 år", 34),
        ("hun skylder 1000 kr", None),
        # the ways volunteers write an age after a name
        ("Poul (86) har demens", 86),
        ("Mohammed's mother (62, speaks only Dari) and her son of 14", 62),
        ("Fru Pedersen 83 er ked af det", 83),
        ("irma 77 er faldet igen", 77),
        ("var hos henning 73 i dag", 73),
        ("Preben er lige gået på pension og har fået KOL", 67),
        ("han går på førtidspension", None),
        ("Frau Schulz ist 58 und war im Krankenhaus", 58),
        ("Klaus er kun 61, men har fået en tidlig demens", 61),
        # an age given roughly
        ("Farfar er omkring 80, kom fra Irak for mange år siden", 80),
        ("en mand på ca. 70 år", 70),
        ("she is about 85 and lives alone", 85),
        # the citizen is named first: a relative's age later on does not count
        ("Camilla er 32 og har cerebral parese, og hendes mor på 70 kan ikke følge hende", 32),
        # English ages as they are written (issue 13 §4), non-breaking hyphens too
        ("Visited a 72-year-old who lives alone", 72),
        ("[NAVN 1], a 72\u2011year\u2011old man, fell", 72),
        ("[NAVN 1], 72, lives alone", 72),
        ("she turned 72 last month", 72),
        ("an old man of 72 with COPD", 72),
        ("a woman in her seventies", 70),
        ("Jens, 72, bor alene", 72),
        ("hun fylder 72 i morgen", 72),
        ("she is 72 years of age", 72),
        # numbers that are not ages
        ("hun er gået ned på 25 timer om ugen", None),
        ("kl 10 er hjemmehjælpen ikke kommet", None),
        ("han er 20 minutter forsinket hver gang", None),
        ("han bor på Hasserisvej 83 på 2. sal", None),
    ],
)
def test_stated_age(text, age):
    assert stated_age(text) == age


@pytest.mark.parametrize(
    "text,child",
    [
        ("Pia har en datter på 15 med anoreksi", True),
        ("drengen vil ikke i skole", True),
        ("familien har børn på 3 og 7 år", True),
        ("han er 45 og bor alene", False),
    ],
)
def test_mentions_child(text, child):
    assert mentions_child(text) is child

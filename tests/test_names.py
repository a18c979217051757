"""Person names become [NAVN n]; places, organisations, laws and dates stay; ages are still read."""
from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.context import stated_age
from matcher.name_eval import load_name_sentences, score
from matcher.names import pseudonymise
from matcher.redact import redact
from matcher.settings import PROJECT_ROOT

from . import test_text

NAMES_SET = PROJECT_ROOT / "eval" / "names.jsonl"


@pytest.mark.parametrize("text,expected", [
    # Danish names, with the honorific and the age kept
    ("Fru Jensen (88) er faldet igen.", "Fru [NAVN 1] (88) er faldet igen."),
    ("Besøgte Erna på 84 i dag.", "Besøgte [NAVN 1] på 84 i dag."),
    ("Hans Kristian Jensen bor i Vejgaard.", "[NAVN 1] bor i Vejgaard."),
    ("hr. nielsen ringede", "hr. [NAVN 1] ringede"),
    ("Mr. Jensen (79) has Parkinson's.", "Mr. [NAVN 1] (79) has Parkinson's."),
    # two people keep apart, the same person keeps the number, "Ernas" keeps its s
    ("Erna og Poul bor i Hasseris. Poul er 90, og Ernas datter ringer.",
     "[NAVN 1] og [NAVN 2] bor i Hasseris. [NAVN 2] er 90, og [NAVN 1]s datter ringer."),
    ("Hans Jensen og Erna Jensen er gift. Jensen er 90.",
     "[NAVN 1] og [NAVN 2] er gift. [NAVN 1] er 90."),
    # the refugee groups
    ("Familien Haddad fra Aleppo bor i Aalborg Øst.", "Familien [NAVN 1] fra Aleppo bor i Aalborg Øst."),
    ("Hodan (41) og Abdi Warsame har fire børn.", "[NAVN 1] (41) og [NAVN 2] har fire børn."),
    ("Tesfay fra Eritrea og hans kone Semhar venter barn.",
     "[NAVN 1] fra Eritrea og hans kone [NAVN 2] venter barn."),
    ("Mursal kom fra Kabul med Farid Rahimi.", "[NAVN 1] kom fra Kabul med [NAVN 2]."),
    ("Olena kom fra Kharkiv med sin datter Kateryna.", "[NAVN 1] kom fra Kharkiv med sin datter [NAVN 2]."),
    # lower case, as in an SMS
    ("besøgte aage idag han er 88", "besøgte [NAVN 1] idag han er 88"),
    ("talte med naboen kaj om fru olsen", "talte med naboen [NAVN 1] om fru [NAVN 2]"),
    ("min nabo bent har ik fået mad", "min nabo [NAVN 1] har ik fået mad"),
    # names that are also words: a name where the sentence says so, a word elsewhere
    ("Min nabo Rose passer katten.", "Min nabo [NAVN 1] passer katten."),
    ("Bo er 70 og bor alene.", "[NAVN 1] er 70 og bor alene."),
    ("Hans søn bor i Aarhus.", "Hans søn bor i Aarhus."),
    ("Hans er 81, og Hans kone er død.", "[NAVN 1] er 81, og [NAVN 1] kone er død."),
    # places that are also surnames
    ("Fru Lindholm bor i Lindholm.", "Fru [NAVN 1] bor i Lindholm."),
    ("Thomas Thisted flyttede fra Thisted.", "[NAVN 1] flyttede fra Thisted."),
])
def test_names_become_numbered_placeholders(text, expected):
    assert pseudonymise(text) == expected


@pytest.mark.parametrize("text", [
    "Hjemmeplejen kommer mandag og torsdag i januar.",
    "Han har ventet siden oktober på svar fra Ankestyrelsen.",
    "Efter Serviceloven og ældreloven skal kommunen tilbyde helhedspleje.",
    "Røde Kors og Ældre Sagen har en lektiecafé i Aalborg Øst.",
    "De kommer fra Syrien og bor i Nørresundby, tæt på Vejgaard.",
    "Sprogcenter Aalborg og Udlændingestyrelsen har ikke svaret.",
    "Borgerservice kan hjælpe med MitID og e-Boks.",
    "Hun bor på Fyrkildevej og handler i Netto.",
    "She speaks Arabic and a little Danish; Red Cross visits on Monday.",
    "Lægen mener, at hun har brug for genoptræning. Sønnen er enig.",
])
def test_places_organisations_laws_and_dates_stay(text):
    assert pseudonymise(text) == text


def test_existing_placeholders_stay_and_new_numbers_follow_them():
    text = "Fru [NAVN 1] (88) ringede fra [TELEFON] om [CPR]. Hendes søn Mikkel skriver til [EMAIL]."
    assert pseudonymise(text) == (
        "Fru [NAVN 1] (88) ringede fra [TELEFON] om [CPR]. Hendes søn [NAVN 2] skriver til [EMAIL].")


def _sentences() -> list[str]:
    return [s.text for s in load_name_sentences(NAMES_SET)]


@given(st.sampled_from(_sentences()), st.sampled_from(_sentences()))
@settings(max_examples=200)
def test_running_twice_changes_nothing(a, b):
    once = pseudonymise(f"{a} {b}")
    assert pseudonymise(once) == once


@given(st.text(max_size=200))
def test_running_twice_changes_nothing_on_any_text(text):
    once = pseudonymise(text)
    assert pseudonymise(once) == once


def test_redact_removes_names_with_the_identifiers():
    out = redact("Fru Jensen (88), tlf 22 33 44 55, cpr 010190-1234, erna@example.dk")
    assert out == "Fru [NAVN 1] (88), tlf [TELEFON], cpr [CPR], [EMAIL]"


@pytest.mark.parametrize("text,age", [
    ("[NAVN 1] (86) har demens", 86),
    ("[NAVN] på 84 kan ikke komme i bad", 84),
    ("Fru [NAVN 2] 83 er ked af det", 83),
    ("[NAVN 1] 77 er faldet igen", 77),
])
def test_ages_are_read_after_a_placeholder(text, age):
    assert stated_age(text) == age


@pytest.mark.parametrize("text,age", [
    ("Poul (86) har demens", 86),
    ("Besøgte Ellen på 84 i dag", 84),
    ("Fru Pedersen 83 er ked af det", 83),
    ("irma 77 er faldet igen", 77),
    ("var hos henning 73 i dag", 73),
    ("Camilla er 32 og har cerebral parese, og hendes mor på 70 kan ikke følge hende", 32),
])
def test_ages_are_read_from_a_pseudonymised_note(text, age):
    assert stated_age(redact(text)) == age


def test_the_age_table_reads_the_same_after_redaction():
    """Every case of the age table in test_text.py gives the same age once names are gone."""
    for mark in test_text.test_stated_age.pytestmark:
        if mark.name == "parametrize":
            for text, age in mark.args[1]:
                assert stated_age(redact(text)) == age, text


def test_the_labelled_set_meets_the_target():
    """Recall >= 0.95 and at most 2 % of other words removed, on the whole set and the held-out part."""
    sentences = load_name_sentences(NAMES_SET)
    assert len(sentences) >= 150
    for part in (sentences, [s for s in sentences if s.split == "holdout"]):
        result = score(part)
        assert result["recall"] >= 0.95 and result["other words removed"] <= 0.02, result
        assert result["idempotent"] == 1.0


def test_a_broken_labelled_set_is_refused(tmp_path):
    path = tmp_path / "names.jsonl"
    path.write_text(json.dumps({"id": "x", "split": "dev", "marked": "Fru {Jensen er 88"}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="braces"):
        load_name_sentences(path)
    path.write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="names.jsonl:1"):
        load_name_sentences(path)


def test_a_long_note_takes_milliseconds():
    """A note of the longest kind the form takes (5,000 characters); generous for a loaded machine."""
    note = " ".join(_sentences())[:5000]
    pseudonymise(note)
    start = time.perf_counter()
    pseudonymise(note)
    assert time.perf_counter() - start < 0.5


def test_names_eval_prints_each_part_of_the_set():
    from click.testing import CliRunner

    from matcher.cli import main

    r = CliRunner().invoke(main, ["names", "eval", "--markdown"])
    assert r.exit_code == 0, r.output
    rows = {line.split("|")[1].strip(): line for line in r.output.splitlines()[2:]}
    assert set(rows) == {"dev", "holdout", "all"}
    assert "precision" in r.output and "other words removed" in r.output


def test_names_eval_refuses_a_missing_or_broken_file(tmp_path):
    from click.testing import CliRunner

    from matcher.cli import main

    r = CliRunner().invoke(main, ["names", "eval", "--file", str(tmp_path / "none.jsonl")])
    assert r.exit_code == 1 and "no labelled sentences" in r.output
    broken = tmp_path / "broken.jsonl"
    broken.write_text("not json\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["names", "eval", "--file", str(broken)])
    assert r.exit_code == 1 and "broken.jsonl:1" in r.output


def test_placeholders_give_the_retrievers_nothing_to_match():
    """'navn' is a word of the corpus: a note full of [NAVN n] must not match on it."""
    from matcher.names import without_names
    from matcher.text import tokenize

    assert "navn" not in tokenize("Fru [NAVN 1] (88) og [NAVN 2] har brug for hjælp")
    assert "navn" in tokenize("hun har skiftet navn")
    assert without_names("Fru [NAVN 1] (88) ringede. [NAVN 2] er syg.") == "Fru (88) ringede. er syg."

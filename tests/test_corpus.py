"""The curated corpus: schema, coverage the caseworkers rely on, and clear load errors."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from matcher.corpus import LAW_CODES, CorpusError, Rule, load_corpus, normalise_section
from matcher.lint import lint

from .conftest import RULES_DIR, TINY_RULES, write_rules


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(RULES_DIR)


REQUIRED = {
    "SEL": "10 12 18 79 83 83a 83b 84 85 86 95 96 97 99 100 101 103 104 107 108 109 110 112 113 114 116 117 118",
    "ÆL": "16 24",
    "LAS": "11 81 82 82a 85",
    "PL": "14 14a 16 72d",
    "SUL": "50 119 131 138 140 141 142 160 170",
    "RSL": "3 5",
    "FVL": "7 8 9 19 22 25",
    "INL": "12",
    "DUL": "2",
    "ABL": "54 59",
    "BL": "30 32 86",
}


#: The day the corpus tests are read on: fixed, so that a provision lapsing does not change them.
AS_OF = dt.date(2026, 9, 1)


def _required(corpus, law, section):
    return [r for r in corpus.rules if r.law == law and normalise_section(r.section) == section]


@pytest.mark.parametrize(
    "law,section", [(law, s) for law, secs in REQUIRED.items() for s in secs.split()]
)
def test_required_provision_is_in_force(corpus, law, section):
    hits = _required(corpus, law, section)
    assert hits, f"{law} § {section} is missing from the corpus"
    assert any(r.in_force(AS_OF) for r in hits), f"{law} § {section} is not in force on {AS_OF}"


def test_the_corpus_is_in_force_today(corpus):
    """On purpose with today's date: it fails on the day a provision caseworkers rely on lapses,
    which is the day rules/ needs a review (a successor entry, or a new valid_to)."""
    today = dt.date.today()
    lapsed = [f"{law} § {section}" for law, secs in REQUIRED.items() for section in secs.split()
              if not any(r.in_force(today) for r in _required(corpus, law, section))]
    assert lapsed == [], f"no longer in force today ({today}): {lapsed}; review rules/"


def test_every_law_in_the_table_has_entries(corpus):
    assert {r.law for r in corpus.rules} == set(LAW_CODES)


def test_moved_provisions_lead_to_a_provision_in_force_or_one_abolished(corpus):
    repealed = {r.id for r in corpus.rules if r.valid_to and r.valid_to < AS_OF}
    assert {"sel-79a", "sel-119", "sel-122", "las-34"} <= repealed
    for r in corpus.rules:
        if not r.successor:
            continue
        successor = corpus.get(r.successor)
        assert isinstance(successor, Rule), r.id
        # the successor takes over when the provision ends, not years later
        assert r.valid_to and successor.valid_from <= r.valid_to + dt.timedelta(days=1), r.id
        # a successor may itself be repealed later (LAS § 34 -> § 87, abolished by LOV 1750/2025):
        # following the chain ends at a provision in force or at one that was abolished outright
        seen, last = {r.id}, successor
        while last.successor:
            assert last.successor not in seen, f"{r.id}: successor chain loops"
            seen.add(last.id)
            last = corpus.get(last.successor)
        assert last.in_force(AS_OF) or (last.valid_to and not last.successor), r.id


def test_at_least_thirty_local_services_each_reachable(corpus):
    assert len(corpus.services) >= 30
    assert all(s.url or s.contact for s in corpus.services)


def test_services_cite_only_provisions_in_the_corpus(corpus):
    assert [w for w in lint(corpus) if "legal_basis" in w] == []


def test_ids_follow_law_and_section(corpus):
    for r in corpus.rules:
        code = r.law.lower().replace("æ", "ae")
        assert r.id.startswith(f"{code}-{normalise_section(r.section)}"), r.id


def test_situations_are_everyday_words_not_citations(corpus):
    for e in corpus.entries:
        for s in e.situations:
            assert not re.search(r"§|\bstk\.", s), f"{e.id}: situation reads like law: {s!r}"


def test_content_hash_changes_when_a_file_changes(tmp_path):
    a = load_corpus(write_rules(tmp_path / "a"))
    files = dict(TINY_RULES, **{"services.yaml": TINY_RULES["services.yaml"].replace("Varm mad", "Kold mad")})
    b = load_corpus(write_rules(tmp_path / "b", files))
    assert a.content_hash != b.content_hash
    assert load_corpus(write_rules(tmp_path / "c")).content_hash == a.content_hash


BROKEN = [
    ("law: SEL", "law: XYZ", "sel.yaml: entry 'sel-83': field 'law'"),
    ('section: "§ 83"', 'section: "83"', "sel.yaml: entry 'sel-83': field 'section'"),
    ("valid_from: 2025-07-01\n  - id: sel-79a", "valid_from: 1. juli\n  - id: sel-79a", "field 'valid_from'"),
    ("source_url: https://www.retsinformation.dk/eli/lta/2025/1089", "source_url: http://example.com",
     "field 'source_url'"),
    ("title: Personlig og praktisk hjælp\n    summary", "summary", "field 'title'"),
    ("successor: ael-4", "successor: ael-99", "field 'successor'"),
    ("successor: ael-4", "successor: ael-4\n    companions: [ael-66]", "sel.yaml: entry 'sel-79a': field 'companions'"),
    ("kind: rule\n    law: SEL", "kind: regel\n    law: SEL", "field 'kind'"),
    ("valid_to: 2025-06-30", "valid_to: 2019-06-30",
     "sel.yaml: entry 'sel-79a': field '(entry)': Value error, valid_to is before valid_from"),
    ("valid_from: 2025-07-01\n  - id: sel-79a", "valid_from: 2025-07-01\n    companions: [sel-83]\n  - id: sel-79a",
     "sel.yaml: entry 'sel-83': field 'companions': 'sel-83' is not another entry's id"),
    ("successor: ael-4", "succesor: ael-4",
     "sel.yaml: entry 'sel-79a': field 'succesor': Extra inputs are not permitted"),
    ("situations: [kan ikke selv komme i bad, rengøringen bliver ikke gjort]",
     "situations: [kan ikke selv komme i bad, '  ']",
     "sel.yaml: entry 'sel-83': field 'situations': Value error, must not contain blank"),
    ("situations: [kan ikke selv komme i bad, rengøringen bliver ikke gjort]",
     "situations: [kan ikke selv komme i bad]",
     "sel.yaml: entry 'sel-83': field 'situations': List should have at least 2"),
    ("id: sel-83\n", "id: SEL 83\n",
     "sel.yaml: entry 'SEL 83': field 'id': Value error, must be lower-case words"),
]


@pytest.mark.parametrize("old,new,message", BROKEN)
def test_broken_entry_stops_the_load_naming_file_entry_and_field(tmp_path, old, new, message):
    import textwrap

    sel = textwrap.dedent(TINY_RULES["sel.yaml"])
    assert old in sel
    folder = write_rules(tmp_path / "rules", dict(TINY_RULES, **{"sel.yaml": sel.replace(old, new, 1)}))
    with pytest.raises(CorpusError, match=re.escape(message)):
        load_corpus(folder)


def test_a_service_with_neither_url_nor_contact_is_refused(tmp_path):
    files = dict(TINY_RULES, **{"services.yaml": TINY_RULES["services.yaml"].replace(
        "            url: https://www.aalborg.dk/\n", "")})
    with pytest.raises(CorpusError, match=re.escape(
            "services.yaml: entry 'aalborg-madservice': field '(entry)': Value error, give a contact or a url")):
        load_corpus(write_rules(tmp_path / "rules", files))


def test_an_empty_folder_is_refused_with_what_to_set(tmp_path):
    (tmp_path / "rules").mkdir()
    with pytest.raises(CorpusError, match="rules: no \\*.yaml files; point MATCHER_RULES_DIR at the rules folder"):
        load_corpus(tmp_path / "rules")


@pytest.mark.parametrize("body,message", [
    ("items: []\n", "x.yaml: must be a mapping with a list under 'entries'"),
    ("entries:\n  - just a string\n", "x.yaml: entry #1: must be a mapping"),
])
def test_a_file_of_the_wrong_shape_is_refused(tmp_path, body, message):
    with pytest.raises(CorpusError, match=re.escape(message)):
        load_corpus(write_rules(tmp_path / "rules", dict(TINY_RULES, **{"x.yaml": body})))


def test_duplicate_id_across_files_is_refused(tmp_path):
    files = dict(TINY_RULES, **{"more.yaml": TINY_RULES["ael.yaml"]})
    with pytest.raises(CorpusError, match="ael-4.*already used in ael.yaml"):
        load_corpus(write_rules(tmp_path / "rules", files))


def test_invalid_yaml_is_refused_with_the_file_name(tmp_path):
    with pytest.raises(CorpusError, match="bad.yaml: not valid YAML"):
        load_corpus(write_rules(tmp_path / "rules", dict(TINY_RULES, **{"bad.yaml": "entries: [\n"})))


def test_service_citation_must_use_a_known_law_code(tmp_path):
    files = dict(TINY_RULES, **{"services.yaml": TINY_RULES["services.yaml"].replace("SEL § 83", "SERVICELOVEN 83")})
    with pytest.raises(CorpusError, match="aalborg-madservice.*legal_basis"):
        load_corpus(write_rules(tmp_path / "rules", files))


def test_section_comparison_ignores_sign_spaces_and_case():
    assert normalise_section("§ 79 a") == normalise_section("§79A") == "79a"


def test_law_codes_match_the_documented_table():
    from matcher.settings import PROJECT_ROOT

    doc = (PROJECT_ROOT / "docs" / "LAW_CODES.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-ZÆØÅ]{2,4})` \|", doc, flags=re.M))
    assert documented == set(LAW_CODES)


def test_sel_and_ael_entries_record_the_act_and_key_terms_they_were_checked_against(corpus):
    for r in corpus.rules:
        if r.law in ("SEL", "ÆL"):
            assert r.checked_against and r.key_terms, f"{r.id}: no checked_against or key_terms"


def test_provisions_moved_to_aeldreloven_name_the_section_that_took_over(corpus):
    # SEL § 79 a (visits at fixed ages) has no ÆL twin: the general outreach duty of ÆL § 4 took over,
    # not ÆL § 6 (general activity offers); SEL chapter 23 moved section for section to ÆL §§ 23-26.
    moved = {r.id: corpus.get(r.successor).citation for r in corpus.rules if r.law == "SEL" and r.successor}
    assert moved == {"sel-79a": "ÆL § 4", "sel-119": "ÆL § 23", "sel-122": "ÆL § 26"}

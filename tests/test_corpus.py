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


@pytest.mark.parametrize(
    "law,section", [(law, s) for law, secs in REQUIRED.items() for s in secs.split()]
)
def test_required_provision_is_in_force_today(corpus, law, section):
    hits = [r for r in corpus.rules if r.law == law and normalise_section(r.section) == section]
    assert hits, f"{law} § {section} is missing from the corpus"
    assert any(r.in_force(dt.date.today()) for r in hits), f"{law} § {section} is not in force"


def test_every_law_in_the_table_has_entries(corpus):
    assert {r.law for r in corpus.rules} == set(LAW_CODES)


def test_moved_provisions_lead_to_a_provision_in_force_or_one_abolished(corpus):
    repealed = {r.id for r in corpus.rules if r.valid_to and r.valid_to < dt.date.today()}
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
        assert last.in_force(dt.date.today()) or (last.valid_to and not last.successor), r.id


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
    ("successor: ael-6", "successor: ael-99", "field 'successor'"),
    ("successor: ael-6", "successor: ael-6\n    companions: [ael-66]", "sel.yaml: entry 'sel-79a': field 'companions'"),
    ("kind: rule\n    law: SEL", "kind: regel\n    law: SEL", "field 'kind'"),
]


@pytest.mark.parametrize("old,new,message", BROKEN)
def test_broken_entry_stops_the_load_naming_file_entry_and_field(tmp_path, old, new, message):
    import textwrap

    sel = textwrap.dedent(TINY_RULES["sel.yaml"])
    assert old in sel
    folder = write_rules(tmp_path / "rules", dict(TINY_RULES, **{"sel.yaml": sel.replace(old, new, 1)}))
    with pytest.raises(CorpusError, match=re.escape(message)):
        load_corpus(folder)


def test_duplicate_id_across_files_is_refused(tmp_path):
    files = dict(TINY_RULES, **{"more.yaml": TINY_RULES["ael.yaml"]})
    with pytest.raises(CorpusError, match="ael-6.*already used in ael.yaml"):
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

"""The enacted texts (rules/acts/), their import, and the check of every rule against its act."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from matcher import Matcher, Settings
from matcher.acts import act_file_name, enacted_text, import_act, load_acts, write_act
from matcher.cli import main
from matcher.corpus import LAW_CODES, load_corpus
from matcher.dense_index import IndexMismatch
from matcher.index_build import entry_documents
from matcher.lint import check_against_acts

from .conftest import RULES_DIR, TINY_RULES, write_rules

TODAY = dt.date(2026, 12, 2)

# A JSON export as retsinformation.dk's XML is kept in Ansvar-Systems/Danish-law-mcp (data/seed/).
SEL_EXPORT = {
    "id": "2025:1129",
    "type": "statute",
    "title": "Bekendtgørelse af lov om social service",
    "short_name": "LBK H#LOKDOK03",
    "issued_date": "2025-09-22",
    "url": "https://www.retsinformation.dk/eli/lta/2025/1129/xml",
    "provisions": [
        {"provision_ref": "9:79", "chapter": "9", "section": "79",
         "content": "§ 79. Kommunalbestyrelsen kan iværksætte generelle tilbud med aktiverende og forebyggende sigte."},
        {"provision_ref": "9:79a", "chapter": "9", "section": "79a", "content": "§ 79 a. (Ophævet)"},
        {"provision_ref": "16:83", "chapter": "16", "section": "83",
         "content": "§ 83. Kommunalbestyrelsen skal tilbyde 1) personlig hjælp og pleje og 2) hjælp eller "
                    "støtte til nødvendige praktiske opgaver i hjemmet. Stk. 2. Tilbuddene efter stk. 1 gives "
                    "til personer, som på grund af nedsat funktionsevne ikke selv kan udføre disse opgaver. "
                    "Stk. 3. Hjælpen skal løbende tilpas\u200dses modtagerens behov."},
        {"provision_ref": "16:84-85", "chapter": "16", "section": "84-85", "content": "§§ 84-85 a. (Ophævet)"},
        # the commencement of an amending act, printed at the end of the consolidation
        {"provision_ref": "2", "section": "2", "content": "§ 2. Loven træder i kraft den 1. juli 2025."},
    ],
}

AEL_XML = """<?xml version="1.0" encoding="utf-8"?>
<Dokument>
  <Meta>
    <DocumentType>LOV H#LOKDOK 01</DocumentType>
    <DocumentTitle>Ældrelov</DocumentTitle>
    <Year>2024</Year><Number>1651</Number><DiesSigni>2024-12-30</DiesSigni>
  </Meta>
  <DokumentIndhold>
    <Kapitel>
      <Explicatus>Kapitel 2</Explicatus>
      <Paragraf>
        <Explicatus>§ 4.</Explicatus>
        <Stk><Exitus><Linea><Char>Kommunalbestyrelsen skal tilvejebringe en generel </Char><Char formaChar="i">forebyggende</Char><Char> indsats over for ældre borgere.</Char></Linea></Exitus></Stk>
      </Paragraf>
      <Paragraf>
        <Explicatus>§ 6.</Explicatus>
        <Stk><Exitus><Linea><Char>Kommunalbestyrelsen kan iværksætte generelle tilbud med aktiverende sigte.</Char>
          <Nota><Explicatus>1)</Explicatus><Exitus><Linea><Char>En fodnote.</Char></Linea></Exitus></Nota></Linea></Exitus></Stk>
        <Stk><Explicatus>Stk. 2.</Explicatus>
          <Exitus><Linea><Char>Ministeren fastsætter regler om betaling for</Char></Linea></Exitus>
          <Liste><Indentatio><Explicatus>1)</Explicatus><Exitus><Linea><Char>tilbud efter stk. 1.</Char></Linea></Exitus></Indentatio></Liste>
        </Stk>
      </Paragraf>
    </Kapitel>
    <Ikraft><Paragraf><Explicatus>§ 45.</Explicatus><Stk><Exitus><Linea><Char>Loven træder i kraft den 1. juli 2025.</Char></Linea></Exitus></Stk></Paragraf></Ikraft>
  </DokumentIndhold>
</Dokument>
"""


@pytest.fixture
def exports(tmp_path):
    sel = tmp_path / "2025_1129.json"
    sel.write_text(json.dumps(SEL_EXPORT, ensure_ascii=False), encoding="utf-8")
    ael = tmp_path / "ael.xml"
    ael.write_text(AEL_XML, encoding="utf-8")
    return sel, ael


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_import_of_a_json_export_writes_the_act_split_into_stk(exports, tmp_path):
    r = run("acts", "import", str(exports[0]), "--acts-dir", str(tmp_path / "acts"),
            "--repository", "Ansvar-Systems/Danish-law-mcp", "--path", "data/seed/2025_1129.json",
            "--commit", "7b40cb9c438a5b7267259d8b7ff0af3501a5cbc1")
    assert r.exit_code == 0, r.output
    assert "SEL LBK nr. 1129 af 2025" in r.output and "4 sections, 2 of them repealed" in r.output
    doc = json.loads((tmp_path / "acts" / "sel.json").read_text(encoding="utf-8"))
    assert doc["act"] == "LBK nr. 1129 af 2025" and doc["date"] == "2025-09-22"
    assert doc["eli"] == "https://www.retsinformation.dk/eli/lta/2025/1129"
    assert doc["source"]["repository"] == "Ansvar-Systems/Danish-law-mcp"
    assert doc["source"]["path"] == "data/seed/2025_1129.json" and len(doc["source"]["sha256"]) == 64
    act = load_acts(tmp_path / "acts").get("SEL")
    s83 = act.section("§ 83")
    assert len(s83.stk) == 3 and s83.stk[1].startswith("Tilbuddene efter stk. 1 gives")
    assert s83.stk[2] == "Hjælpen skal løbende tilpasses modtagerens behov."  # zero-width joiner gone
    assert act.section("§ 79 a").repealed and not act.section("§ 79").repealed
    assert act.section("§ 85 a").label == "§§ 84-85 a" and act.section("§ 85 a").repealed
    assert act.section("§ 85 b") is None and act.section("§ 2") is None  # the amending act's § 2 is not SEL's


def test_import_of_retsinformation_xml_keeps_lists_and_drops_footnotes(exports, tmp_path):
    act = import_act(exports[1], today=TODAY)
    assert (act.law, act.citation, act.date) == ("ÆL", "LOV nr. 1651 af 2024", dt.date(2024, 12, 30))
    assert act.section("§ 4").stk == ("Kommunalbestyrelsen skal tilvejebringe en generel forebyggende "
                                      "indsats over for ældre borgere.",)
    six = act.section("§ 6")
    assert six.stk == ("Kommunalbestyrelsen kan iværksætte generelle tilbud med aktiverende sigte.",
                       "Ministeren fastsætter regler om betaling for 1) tilbud efter stk. 1.")
    assert six.chapter == "2" and act.section("§ 45") is None  # commencement is not a section of the act
    path = write_act(act, tmp_path / "acts")
    assert path.name == act_file_name("ÆL") == "ael.json"
    assert load_acts(tmp_path / "acts").section("ÆL", "§ 6") == six


@pytest.mark.parametrize("body,needle", [
    ("not an act at all", "neither XML nor JSON"),
    ("<Dokument><Meta/></Dokument>", "not a retsinformation.dk document"),
    (json.dumps({**SEL_EXPORT, "title": "Lov om ændring af lov om social service"}), "amending act"),
    (json.dumps({**SEL_EXPORT, "short_name": "BEK H#LOKDOK04"}), "only an act (LOV) or a consolidation"),
    (json.dumps({"id": "x"}), "not an export"),
])
def test_import_refuses_what_is_not_an_act_with_one_sentence(tmp_path, body, needle):
    bad = tmp_path / "bad.json"
    bad.write_text(body, encoding="utf-8")
    r = run("acts", "import", str(bad), "--acts-dir", str(tmp_path / "acts"))
    assert r.exit_code == 1 and needle in r.output
    assert not (tmp_path / "acts").exists()  # nothing half-written


def test_every_law_of_the_law_codes_table_has_its_act_on_file():
    acts = load_acts(RULES_DIR / "acts")
    assert set(acts.by_law) == set(LAW_CODES)
    for law, act in acts.by_law.items():
        assert act.kind in {"LBK", "LOV"} and act.eli.endswith(f"/eli/lta/{act.year}/{act.number}")
        assert {"repository", "path", "commit", "sha256"} <= set(act.source), law
        assert len(act.sections) > 20, law
    assert acts.section("LAS", "§ 34").repealed  # §§ 34-34 b (Ophævet) in LBK 1004/2025
    assert "forebyggende" in acts.section("ÆL", "§ 4").text


def test_every_rule_of_the_corpus_is_verified_against_its_act():
    """No rule in force cites a missing or repealed section, no key term is absent, every
    service's legal basis is a rule in force; pending findings (rules still without key_terms
    or checked_against) count too once the rules_check_strict setting's default is true."""
    found = check_against_acts(load_corpus(RULES_DIR), load_acts(RULES_DIR / "acts"))
    assert found.failures(strict=Settings().rules_check_strict) == []


# ---------------------------------------------------------------- the check on a tiny corpus

TINY_ACTS = {
    "SEL": {"section": [("§ 79 a", ["(Ophævet)"]),
                        ("§ 83", ["Kommunalbestyrelsen skal tilbyde 1) personlig hjælp og pleje og 2) hjælp "
                                  "eller støtte til nødvendige praktiske opgaver i hjemmet.",
                                  "Tilbuddene gives til personer under folkepensionsalderen."])],
            "kind": "LBK", "number": 1129, "year": 2025, "date": "2025-09-22"},
    "ÆL": {"section": [("§ 4", ["Kommunalbestyrelsen skal tilvejebringe en generel  forebyggende indsats "
                                "over for ældre borgere, herunder en opsøgende indsats."])],
           "kind": "LOV", "number": 1651, "year": 2024, "date": "2024-12-30"},
}


def write_tiny_acts(folder, acts=TINY_ACTS):
    folder.mkdir(parents=True, exist_ok=True)
    for law, a in acts.items():
        doc = {"format": 1, "law": law, "title": law, "kind": a["kind"], "number": a["number"],
               "year": a["year"], "date": a["date"], "eli": f"https://www.retsinformation.dk/eli/lta/{a['year']}/{a['number']}",
               "source": {"file": "fixture"}, "sections": [{"section": s, "stk": t} for s, t in a["section"]]}
        (folder / act_file_name(law)).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return folder


def tiny_corpus(tmp_path, **replace):
    """The tiny corpus with key terms and checked_against, and its tiny acts in rules/acts/."""
    sel = TINY_RULES["sel.yaml"].replace(
        "valid_from: 2025-07-01\n",
        "valid_from: 2025-07-01\n            key_terms: [personlig hjælp, praktiske opgaver]\n"
        "            checked_against: LBK nr. 1129 af 2025\n", 1)
    ael = TINY_RULES["ael.yaml"].replace(
        "valid_from: 2025-07-01\n",
        "valid_from: 2025-07-01\n            key_terms: [FOREBYGGENDE indsats]\n"
        "            checked_against: LOV nr. 1651 af 2024\n", 1)
    files = dict(TINY_RULES, **{"sel.yaml": sel, "ael.yaml": ael})
    for name, (old, new) in replace.items():
        assert old in files[name], old
        files[name] = files[name].replace(old, new, 1)
    folder = write_rules(tmp_path / "rules", files)
    write_tiny_acts(folder / "acts")
    return folder


def check(folder, *args):
    return CliRunner().invoke(main, ["rules", "check", "--rules-dir", str(folder), "--date", "2026-12-02", *args],
                              env={"MATCHER_RULES_CHECK_STRICT": ""}, catch_exceptions=False)


def test_check_passes_when_every_rule_matches_its_act(tmp_path):
    r = check(tiny_corpus(tmp_path), "--strict")
    assert r.exit_code == 0, r.output
    assert "2 rules verified against the text of 2 acts, 1 ended before their act" in r.output


@pytest.mark.parametrize("replace,needle", [
    # a wrong section: the act's § 79 a is repealed, and the entry says it is in force
    ({"sel.yaml": ('valid_to: 2025-06-30', 'valid_to: null')}, "sel-79a: LBK nr. 1129 af 2025 marks § 79 a '(Ophævet)'"),
    # a renumbered or wrong section: its text lacks the key terms
    ({"sel.yaml": ('section: "§ 83"', 'section: "§ 79 a"')}, "sel-83: LBK nr. 1129 af 2025 marks § 79 a"),
    ({"ael.yaml": ('FOREBYGGENDE indsats', 'forebyggende hjemmebesøg')}, "does not contain 'forebyggende hjemmebesøg'"),
    # a section the act does not have
    ({"ael.yaml": ('section: "§ 4"', 'section: "§ 22"')}, "ael-4: LOV nr. 1651 af 2024 has no § 22"),
    # a service resting on a provision no longer in force
    ({"services.yaml": ('["SEL § 83"]', '["SEL § 79 a"]')}, "aalborg-madservice: legal_basis 'SEL § 79 a' is not in force"),
    ({"services.yaml": ('["SEL § 83"]', '["SEL § 83 b"]')}, "legal_basis 'SEL § 83 b' is no rule of the corpus"),
])
def test_check_fails_when_a_section_is_wrong_or_repealed(tmp_path, replace, needle):
    r = check(tiny_corpus(tmp_path, **replace))
    assert r.exit_code == 1
    assert needle in r.output


def test_missing_key_terms_are_pending_and_fail_only_when_strict(tmp_path):
    folder = tiny_corpus(tmp_path, **{"ael.yaml": ("key_terms: [FOREBYGGENDE indsats]", "key_terms: []")})
    lenient = check(folder)
    assert lenient.exit_code == 0 and "pending: ael-4: no key_terms" in lenient.output
    strict = check(folder, "--strict")
    assert strict.exit_code == 1 and "error: ael-4: no key_terms" in strict.output
    by_setting = CliRunner().invoke(main, ["rules", "check", "--rules-dir", str(folder), "--date", "2026-12-02"],
                                    env={"MATCHER_RULES_CHECK_STRICT": "1"})
    assert by_setting.exit_code == 1


def test_checked_against_another_act_and_dates_the_act_contradicts_are_pending(tmp_path):
    folder = tiny_corpus(tmp_path, **{"sel.yaml": ("checked_against: LBK nr. 1129 af 2025", "checked_against: LBK nr. 155 af 2025")})
    r = check(folder, "--strict")
    assert r.exit_code == 1 and "checked against 'LBK nr. 155 af 2025', but rules/acts/ holds 'LBK nr. 1129 af 2025'" in r.output
    # repealed in an act of September 2025, but said to be in force until 2026
    folder = tiny_corpus(tmp_path / "b", **{"sel.yaml": ("valid_to: 2025-06-30", "valid_to: 2026-06-30")})
    assert check(folder).exit_code == 0
    r = check(folder, "--strict")
    assert r.exit_code == 1 and "sel-79a: LBK nr. 1129 af 2025 of 2025-09-22 already marks § 79 a" in r.output


def test_check_fails_without_the_act_of_a_cited_law(tmp_path):
    folder = tiny_corpus(tmp_path)
    (folder / "acts" / "ael.json").unlink()
    r = check(folder)
    assert r.exit_code == 1 and "ael-4: no act of ÆL in rules/acts/" in r.output


# ---------------------------------------------------------------- the text for the case page and the index


def test_the_stk_a_rule_rests_on_is_the_one_holding_its_key_terms(tmp_path):
    acts = load_acts(write_tiny_acts(tmp_path / "acts"))
    law = enacted_text(acts, "SEL", "§ 83", ["FOLKEPENSIONSALDEREN"])
    assert (law.act, law.eli, law.label, law.relevant) == (
        "LBK nr. 1129 af 2025", "https://www.retsinformation.dk/eli/lta/2025/1129", "§ 83", (2,))
    assert enacted_text(acts, "SEL", "§ 83").relevant == ()  # no key terms: the whole section
    assert enacted_text(acts, "SEL", "§ 79 a").repealed
    assert enacted_text(acts, "SEL", "§ 84") is None and enacted_text(acts, "LAS", "§ 11") is None


def test_a_matcher_serves_each_rules_enacted_text(tmp_path):
    folder = tiny_corpus(tmp_path)
    m = Matcher.load(Settings.from_env({}, rules_dir=folder, index_dir=tmp_path / "idx", encoder="hashing"))
    law = m.enacted("sel-83")
    assert law.citation == "SEL § 83" and law.relevant == (1,)  # "personlig hjælp" is in stk. 1
    assert m.enacted("aalborg-madservice") is None and m.enacted("no-such-entry") is None


def test_enacted_text_as_one_more_document_is_a_setting_that_rebuilds_the_index(tmp_path):
    folder = tiny_corpus(tmp_path)
    plain = Settings.from_env({}, rules_dir=folder, index_dir=tmp_path / "idx", encoder="hashing")
    base = Matcher.load(plain).dense.manifest
    assert base["act_documents"] is None
    with_acts = Matcher.load(plain.replace(act_documents=True)).dense.manifest
    # sel-83 and ael-4 have a live section on file; sel-79a's is repealed and services have none
    assert with_acts["documents"] == base["documents"] + 2 and len(with_acts["act_documents"]) == 64
    corpus, acts = load_corpus(folder), load_acts(folder / "acts")
    docs = entry_documents(corpus.get("sel-83"), acts)
    assert docs[:-1] == entry_documents(corpus.get("sel-83")) and docs[-1].startswith("§ 83. Kommunalbestyrelsen skal")
    assert "Stk. 2. Tilbuddene gives" in docs[-1]
    (folder / "acts" / "sel.json").write_text((folder / "acts" / "sel.json").read_text().replace("pleje og", "omsorg og"))
    with pytest.raises(IndexMismatch, match="act_documents"):
        Matcher.load(plain.replace(act_documents=True), rebuild=False)

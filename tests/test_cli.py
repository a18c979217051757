"""The command line, and the `matcher match --jsonl` contract others' tools depend on."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from matcher.cli import main

from .conftest import TINY_RULES, write_rules


@pytest.fixture(scope="session")
def cli_index(tmp_path_factory):
    """One index folder for the session's CLI runs: the index and confidence model are built once."""
    return tmp_path_factory.mktemp("cli-idx")


@pytest.fixture
def run(cli_index):
    idx = cli_index

    def invoke(*args, input=None, env=None):
        env = {"MATCHER_ENCODER": "hashing", "MATCHER_INDEX_DIR": str(idx), **(env or {})}
        return CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)

    return invoke


def test_rules_check_passes_on_the_corpus(run):
    r = run("rules", "check")
    assert r.exit_code == 0 and r.stdout.startswith("ok: ")


def test_rules_check_fails_with_one_sentence_naming_the_problem(run, tmp_path):
    broken = TINY_RULES["sel.yaml"].replace("law: SEL", "law: SOC", 1)
    folder = write_rules(tmp_path / "r", dict(TINY_RULES, **{"sel.yaml": broken}))
    r = run("rules", "check", "--rules-dir", str(folder))
    assert r.exit_code == 1
    assert "sel.yaml: entry 'sel-83': field 'law'" in r.output


def test_rules_list_json_prints_every_entry(run):
    rows = json.loads(run("rules", "list", "--json").output)
    assert len({r["id"] for r in rows}) == len(rows) > 100
    for r in rows:
        assert {"id", "kind", "law", "section", "title", "legal_basis", "summary", "situations"} <= set(r)
        if r["kind"] == "rule":
            assert r["legal_basis"] == [f"{r['law']} {r['section']}"]


def test_match_jsonl_keeps_order_and_reports_bad_lines(run):
    lines = [
        json.dumps({"id": "n1", "text": "Hun kan ikke selv komme i bad og har ingen mad"}),
        "",
        "not json",
        json.dumps({"id": "n2"}),
        json.dumps({"id": 3, "text": "He cannot pay for his medicine"}),
        json.dumps(["a"]),
    ]
    r = run("match", "--jsonl", "--top", "4", input="\n".join(lines) + "\n")
    assert r.exit_code == 0
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o["id"] for o in out] == ["n1", None, None, "n2", 3, None]
    assert [("error" in o) for o in out] == [False, True, True, True, False, True]
    for o in (out[0], out[4]):
        assert set(o) == {"id", "suggestions", "confidence", "no_good_match"} and len(o["suggestions"]) == 4
        assert 0.0 <= o["confidence"] <= 1.0 and isinstance(o["no_good_match"], bool)
        assert [s["rank"] for s in o["suggestions"]] == [1, 2, 3, 4]
        assert list(o["suggestions"][0])[:5] == ["rank", "kind", "id", "law", "section"]


def test_match_prints_a_readable_table(run):
    r = run("match", "Hun kan ikke selv komme i bad og har ingen mad", "--top", "3")
    assert r.exit_code == 0
    rows = [line for line in r.stdout.splitlines() if not line.startswith("      >")]
    assert [line.split(".")[0].strip() for line in rows[:3]] == ["1", "2", "3"]
    assert rows[3].startswith("confidence 0.") and "first suggestion" in rows[3]


def test_match_refuses_an_empty_note(run):
    r = run("match", input="   \n")
    assert r.exit_code == 2 and "empty" in r.output


def test_match_on_stdin(run):
    r = run("match", "--top", "1", input="Familien skal lære dansk")
    assert r.exit_code == 0 and r.stdout.startswith(" 1.")


def test_index_build_if_missing_reuses_a_fitting_index(run):
    assert run("index", "build").exit_code == 0
    r = run("index", "build", "--if-missing")
    assert r.exit_code == 0 and "up to date" in r.output


@pytest.mark.model
def test_index_build_trains_a_tuned_encoder_once_and_again_on_retune(run, tmp_path):
    """A tuned encoder is trained with the first build, reused after, and retrained on --retune."""
    env = {"MATCHER_ENCODER": "tuned:minilm", "MATCHER_RULES_DIR": str(write_rules(tmp_path / "rules")),
           "MATCHER_INDEX_DIR": str(tmp_path / "idx")}
    manifest = tmp_path / "idx" / "tuned" / "minilm" / "tuned.json"
    assert run("index", "build", env=env).exit_code == 0
    first = manifest.stat().st_mtime_ns
    assert "up to date" in run("index", "build", "--if-missing", env=env).output
    assert manifest.stat().st_mtime_ns == first
    assert run("index", "build", "--retune", env=env).exit_code == 0
    assert manifest.stat().st_mtime_ns != first


def test_eval_prints_every_method_for_both_splits(run):
    r = run("eval", "--encoders", "hashing", "--markdown")
    assert r.exit_code == 0
    table = r.stdout.split("\n\n")[0]
    rows = [line.split("|")[1:4] for line in table.splitlines()[2:]]
    methods = {(split.strip(), method.strip()) for split, method, _ in rows}
    assert {("dev", "keyword"), ("test", "dense"), ("test", "hybrid"), ("test", "hybrid+feedback")} <= methods
    # the "nothing fits" figures of the hybrid ranking, and the reliability of its confidence
    header = [c.strip() for c in table.splitlines()[0].split("|")]
    hybrid = next(line for line in table.splitlines() if "| test | hybrid |" in line)
    flagged = float(hybrid.split("|")[header.index("oos flagged")])
    assert 0.0 <= flagged <= 1.0
    assert "Reliability of the confidence: test, hybrid" in r.stdout and "ECE" in r.stdout


def test_redact_eval_prints_caught_and_wrongly_removed_per_category(run):
    r = run("redact", "eval")
    assert r.exit_code == 0
    rows = {line.split()[0]: line.split() for line in r.stdout.splitlines() if line.strip()}
    assert {"cpr", "phone", "email", "amount", "date", "all"} <= set(rows)
    caught, total = map(int, rows["all"][2].split("/"))
    assert total >= 100 and caught / total > 0.9


def test_redact_eval_names_the_broken_line(run, tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text('{"text": "ring 22334455", "expected": "ring [TELEFON]", "category": "phone"}\n'
                    '{"text": "ring 22334455", "expected": "ring [CPR] i dag", "category": "phone"}\n')
    r = run("redact", "eval", "--file", str(path))
    assert r.exit_code == 1 and f"{path}:2:" in r.output
    r = run("redact", "eval", "--file", str(tmp_path / "missing.jsonl"))
    assert r.exit_code == 1 and "no such file" in r.output

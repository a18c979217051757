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

"""The case store on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from web import cases, db
from web import queue as queues
from web.accounts import authenticate, issue_token, user_for_token
from web.models import ApiToken, AuditEvent, Case, Decision, Suggestion, User, new_public_id

from webhelpers import NOTE, PASSWORD, add_case, user


@pytest.fixture
def app(store_app):
    """Every test here runs on each available backend."""
    return store_app


def test_public_ids_are_long_random_and_readable():
    """Case references carry 80 random bits in an unambiguous alphabet."""
    ids = {new_public_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){3}[0-9A-HJKMNP-TV-Z]{4}", i) for i in ids)


def test_submitted_case_is_stored_with_suggestions(app):
    """A submitted note becomes a pending case with ranked suggestions and the engine version."""
    public_id = add_case(app, wishes="Vi mangler et lokale.")
    with app.app_context():
        case = cases.get_case(db.session(), public_id)
        assert case.status == "pending" and case.area == "ældre" and case.consent
        assert case.organisation.name == "Røde Kors Aalborg"
        assert case.organisation_wishes == "Vi mangler et lokale."
        assert case.created_at.tzinfo is not None and case.consent_at.tzinfo is not None
        assert case.suggestions, "the engine suggested nothing for a plain note"
        ranks = sorted(s.rank for s in case.suggestions)
        assert ranks == list(range(1, len(ranks) + 1))
        matcher = app.extensions["matcher"]
        assert {s.engine_version for s in case.suggestions} == {matcher.version}
        assert all(isinstance(s.evidence, list) for s in case.suggestions)


def test_case_lookup_ignores_letter_case(app):
    """A reference typed in lower case still finds the case."""
    public_id = add_case(app)
    with app.app_context():
        assert cases.get_case(db.session(), public_id.lower()).public_id == public_id


def test_decisions_latest_wins_and_outcome_after_close(app):
    """The latest decision per entry counts; once closed, the outcome lists the confirmed ones."""
    public_id = add_case(app)
    with app.app_context():
        store, matcher = db.session(), app.extensions["matcher"]
        case = cases.get_case(store, public_id)
        first, second = sorted(case.suggestions, key=lambda s: s.rank)[:2]
        caseworker = user(app, "cw")
        cases.decide(store, matcher, case, caseworker, first.entry_id, "reject", "passer ikke")
        assert case.status == "in_review"
        cases.decide(store, matcher, case, caseworker, first.entry_id, "confirm")
        cases.decide(store, matcher, case, caseworker, second.entry_id, "reject")
        assert cases.outcome(case) == []
        cases.close(store, case, caseworker, "Tak for henvendelsen.")
        assert [s.entry_id for s in cases.outcome(case)] == [first.entry_id]
        assert case.closed_at is not None and case.closed_by_id == caseworker.id
        assert len(store.scalars(select(Decision)).all()) == 3


def test_a_missed_entry_is_added_from_the_corpus(app):
    """Confirming an entry the engine did not suggest adds it, marked as the caseworker's."""
    public_id = add_case(app)
    with app.app_context():
        store, matcher = db.session(), app.extensions["matcher"]
        case = cases.get_case(store, public_id)
        listed = {s.entry_id for s in case.suggestions}
        missed = next(e for e in matcher.corpus.entries if e.id not in listed)
        cases.decide(store, matcher, case, user(app, "cw"), missed.id, "confirm")
        added = next(s for s in case.suggestions if s.entry_id == missed.id)
        assert added.origin == "caseworker" and added.rank is None and added.score is None
        with pytest.raises(cases.CaseError, match="unknown_entry"):
            cases.decide(store, matcher, case, user(app, "cw"), "no-such-entry", "confirm")


def test_closed_cases_refuse_changes(app):
    """Nothing changes after closing."""
    public_id = add_case(app)
    with app.app_context():
        store, matcher = db.session(), app.extensions["matcher"]
        case = cases.get_case(store, public_id)
        cases.close(store, case, user(app, "cw"), "Tak.")
        entry = case.suggestions[0].entry_id
        for action in (lambda: cases.decide(store, matcher, case, user(app, "cw"), entry,
                                            "confirm"),
                       lambda: cases.close(store, case, user(app, "cw"), "Tak.")):
            with pytest.raises(cases.CaseError, match="case_closed"):
                action()


def test_queue_is_oldest_first_and_filters(app):
    """Pending cases come oldest first; area and status filter."""
    ids = [add_case(app, area=a) for a in ("ældre", "flygtning", "ældre")]
    with app.app_context():
        store = db.session()
        for i, public_id in enumerate(ids):
            # Spread the times: several inserts can share a timestamp on a fast machine.
            cases.get_case(store, public_id).created_at -= timedelta(days=10 - i)
        store.commit()
        cw = user(app, "cw")

        def listed(**filters):
            query = queues.parse(sort="received", **filters)
            return [c.public_id for c in queues.find(store, cw, query, size=50).items]

        assert listed() == ids
        assert listed(area="ældre") == [ids[0], ids[2]]
        assert listed(area="aeldre") == [ids[0], ids[2]]
        cases.close(store, cases.get_case(store, ids[0]), cw, "Tak for henvendelsen.")
        assert listed() == ids[1:]
        assert listed(status="closed") == ids[:1]


def test_volunteers_read_their_own_cases_and_coordinators_their_organisations(app):
    """A volunteer reaches only the cases they wrote; the coordinator every case of the organisation."""
    public_id = add_case(app, "vol")
    with app.app_context():
        store = db.session()
        assert cases.readable_case(store, user(app, "vol"), public_id) is not None
        assert cases.readable_case(store, user(app, "vol2"), public_id) is None  # a colleague
        assert cases.readable_case(store, user(app, "other"), public_id) is None
        assert cases.readable_case(store, user(app, "coord"), public_id) is not None
        assert cases.readable_case(store, user(app, "coord_b"), public_id) is None
        assert cases.readable_cases(store, user(app, "vol2")) == []
        assert [c.public_id for c in cases.readable_cases(store, user(app, "coord"))] == [public_id]
        assert cases.readable_cases(store, user(app, "other")) == []


def test_passwords_are_argon2id_and_checked(app):
    """Passwords are stored as argon2id hashes and verified; usernames ignore case."""
    with app.app_context():
        store = db.session()
        row = user(app, "vol")
        assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
        assert authenticate(store, "VOL", PASSWORD).id == row.id
        assert authenticate(store, "vol", "wrong password") is None
        assert authenticate(store, "nobody", PASSWORD) is None
        row.active = False
        store.commit()
        assert authenticate(store, "vol", PASSWORD) is None


def test_tokens_are_stored_hashed_and_expire(app):
    """Only a token's digest is stored, and an expired token is refused."""
    with app.app_context():
        store = db.session()
        token, expires_at = issue_token(store, user(app, "cw"))
        store.commit()
        row = store.scalar(select(ApiToken))
        assert token not in row.token_hash and len(row.token_hash) == 64
        assert user_for_token(store, token).username == "cw"
        assert user_for_token(store, token + "x") is None
        row.expires_at = expires_at - timedelta(seconds=app.config["TOKEN_TTL"] + 1)
        store.commit()
        assert user_for_token(store, token) is None


def test_constraints_hold(app):
    """The database itself refuses unknown statuses and duplicate entries per case."""
    public_id = add_case(app)
    with app.app_context():
        store = db.session()
        case = cases.get_case(store, public_id)
        case.status = "lost"
        with pytest.raises(IntegrityError):
            store.commit()
        store.rollback()
        case = cases.get_case(store, public_id)
        first = case.suggestions[0]
        store.add(Suggestion(case_id=case.id, entry_id=first.entry_id, kind=first.kind,
                             title=first.title, engine_version="x"))
        with pytest.raises(IntegrityError):
            store.commit()
        store.rollback()


def test_deleting_a_case_removes_its_suggestions_and_decisions(app):
    """Cases own their suggestions and decisions (e.g. for erasure on request)."""
    public_id = add_case(app)
    with app.app_context():
        store, matcher = db.session(), app.extensions["matcher"]
        case = cases.get_case(store, public_id)
        cases.decide(store, matcher, case, user(app, "cw"), case.suggestions[0].entry_id,
                     "confirm")
        store.delete(case)
        store.commit()
        assert store.scalars(select(Suggestion)).all() == []
        assert store.scalars(select(Decision)).all() == []
        assert store.scalars(select(Case)).all() == []


def test_audit_events_name_no_text(app):
    """Audit events record who did what to which case, never the note."""
    public_id = add_case(app)
    with app.app_context():
        store = db.session()
        case = cases.get_case(store, public_id)
        cases.record_view(store, user(app, "cw"), "case.view", case)
        events = store.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(e.user.username, e.action, e.target) for e in events] == [
            ("vol", "note.submit", public_id), ("cw", "case.view", public_id)]
        assert all(NOTE[:20] not in (e.target or "") for e in events)


def test_users_need_the_right_organisation(app):
    """Volunteers need an organisation; others must not have one."""
    from web.accounts import AccountError, create_user

    with app.app_context():
        store = db.session()
        for args, code in [(("x1", "volunteer", "long-enough-pw", None), "organisation_required"),
                           (("x2", "caseworker", "long-enough-pw", "Org"),
                            "organisation_not_allowed"),
                           (("vol", "admin", "long-enough-pw", None), "username_taken"),
                           (("x3", "admin", "short", None), "password_too_short"),
                           (("bad name", "admin", "long-enough-pw", None), "bad_username"),
                           (("x4", "king", "long-enough-pw", None), "bad_role")]:
            with pytest.raises(AccountError) as info:
                create_user(store, *args)
            assert info.value.code == code
        created = create_user(store, "New.Person", "volunteer", "long-enough-pw", "Ny Forening")
        store.commit()
        assert created.username == "new.person" and created.organisation.name == "Ny Forening"
        assert store.scalar(select(User).where(User.username == "new.person")) is not None

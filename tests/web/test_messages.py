"""Questions and answers between caseworker and volunteer, added information and withdrawal."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from web import cases, db, messages
from web import queue as queues
from web.models import Case, Message

from webhelpers import AuthActions, add_case, token_for, user

QUESTION = "Bor hun alene? Hendes datter Karen Hansen har sagt, vi kan ringe på 22 33 44 55."
ANSWER = "Ja, hun bor alene. Hun vil gerne ringes op på 40 50 60 70 om formiddagen."


def _case(app, public_id):
    return cases.get_case(db.session(), public_id)


def test_a_question_makes_the_case_wait_and_the_answer_ends_it(app, client, auth, case_id):
    """The caseworker asks, the volunteer answers on the case page; both see the redacted thread."""
    auth.login("cw")
    asked = client.post(f"/caseworker/cases/{case_id}/messages", data={"text": QUESTION})
    assert asked.status_code == 302
    with app.app_context():
        assert _case(app, case_id).status == "waiting"
    page = client.get(f"/caseworker/cases/{case_id}").get_data(as_text=True)
    assert "Venter på svar" in page and "sat på pause" in page
    auth.logout()

    auth.login("vol")
    page = client.get(f"/volunteer/notes/{case_id}").get_data(as_text=True)
    assert "Bor hun alene?" in page and "[TELEFON]" in page and "[NAVN 1]" in page
    assert "22 33 44 55" not in page and "Karen Hansen" not in page
    assert "Dit svar til sagsbehandleren" in page
    answered = client.post(f"/volunteer/notes/{case_id}/messages", data={"text": ANSWER})
    assert answered.status_code == 302
    with app.app_context():
        case = _case(app, case_id)
        assert case.status == "pending" and case.waiting_since is None
        stored = [(m.from_role, m.kind, m.text) for m in messages.thread(db.session(), case)]
    assert [s[:2] for s in stored] == [("caseworker", "question"), ("volunteer", "answer")]
    assert all("22 33 44 55" not in t and "40 50 60 70" not in t for _, _, t in stored)
    auth.logout()

    auth.login("cw")
    page = client.get(f"/caseworker/cases/{case_id}").get_data(as_text=True)
    assert "Ja, hun bor alene." in page and "40 50 60 70" not in page and "<time datetime=" in page


def test_waiting_time_is_counted_for_the_deadline(app, case_id):
    """waiting_seconds counts the current wait up to now and keeps finished waits."""
    with app.app_context():
        store = db.session()
        case = _case(app, case_id)
        assert messages.waiting_seconds(case) == 0
        messages.post(store, case, user(app, "cw"), "Må vi ringe til hende?")
        case = _case(app, case_id)
        assert messages.waiting_seconds(case, now=case.waiting_since + timedelta(hours=3)) == 3 * 3600
        # Two hours of waiting, then the answer folds them in.
        store.execute(update(Case).where(Case.id == case.id)
                      .values(waiting_since=case.waiting_since - timedelta(hours=2)))
        store.commit()
        messages.post(store, _case(app, case_id), user(app, "vol"), "Ja, det må I gerne.")
        case = _case(app, case_id)
        assert case.waiting_since is None and 7200 <= case.waited_seconds < 7200 + 60
        assert messages.waiting_seconds(case) == case.waited_seconds
        # A second question while nothing is waiting starts a new wait on top.
        messages.post(store, case, user(app, "cw"), "Har hun en hjemmehjælper?")
        case = _case(app, case_id)
        later = case.waiting_since + timedelta(minutes=10)
        assert messages.waiting_seconds(case, now=later) == case.waited_seconds + 600


def test_the_deadline_stands_still_while_the_case_waits(app, case_id):
    """With DEADLINE_PAUSES_WHILE_WAITING on, days waited move the deadline on; off, it runs."""
    from web.deadlines import days_left

    with app.app_context():
        store = db.session()
        case = _case(app, case_id)
        due = case.due_at
        messages.post(store, case, user(app, "cw"), "Bor hun alene?")
        case = _case(app, case_id)
        assert case.status == "waiting"
        five_days_on = case.waiting_since + timedelta(days=5)
        paused = days_left(case, now=five_days_on)
        app.config["DEADLINE_PAUSES_WHILE_WAITING"] = False
        running = days_left(case, now=five_days_on)
        app.config["DEADLINE_PAUSES_WHILE_WAITING"] = True
        assert paused - running == 5
        # Three days of waiting, then the answer: the deadline is three days later for good.
        store.execute(update(Case).where(Case.id == case.id)
                      .values(waiting_since=case.waiting_since - timedelta(days=3)))
        store.commit()
        messages.post(store, _case(app, case_id), user(app, "vol"), "Ja, hun bor alene.")
        case = _case(app, case_id)
        assert timedelta(days=3) <= case.due_at - due < timedelta(days=3, minutes=1)


def test_the_deadline_does_not_move_when_pauses_are_off(app, case_id):
    """Off, the answer leaves the deadline where it was."""
    app.config["DEADLINE_PAUSES_WHILE_WAITING"] = False
    try:
        with app.app_context():
            store = db.session()
            due = _case(app, case_id).due_at
            messages.post(store, _case(app, case_id), user(app, "cw"), "Bor hun alene?")
            case = _case(app, case_id)
            store.execute(update(Case).where(Case.id == case.id)
                          .values(waiting_since=case.waiting_since - timedelta(days=3)))
            store.commit()
            messages.post(store, _case(app, case_id), user(app, "vol"), "Ja.")
            assert _case(app, case_id).due_at == due
    finally:
        app.config["DEADLINE_PAUSES_WHILE_WAITING"] = True


def test_the_volunteer_adds_information_until_the_case_is_closed(app, client, auth, case_id):
    """Without a question the volunteer's message is information; after closing, it is refused."""
    auth.login("vol")
    client.post(f"/volunteer/notes/{case_id}/messages", data={"text": "Hun har fået en rollator."})
    with app.app_context():
        [m] = db.session().scalars(select(Message)).all()
        assert (m.kind, _case(app, case_id).status) == ("information", "pending")
        cases.close(db.session(), _case(app, case_id), user(app, "cw"), "Tak")
    refused = client.post(f"/volunteer/notes/{case_id}/messages", data={"text": "En ting mere."},
                          follow_redirects=True)
    assert "Sagen er allerede lukket" in refused.get_data(as_text=True)
    with app.app_context():
        assert len(db.session().scalars(select(Message)).all()) == 1


def test_an_empty_or_too_long_message_is_refused_with_the_text_kept(app, client, auth, case_id):
    """Bad messages come back as a 400 form error; nothing is stored."""
    auth.login("vol")
    assert client.post(f"/volunteer/notes/{case_id}/messages", data={"text": " "}).status_code == 400
    long = "ord " * 1300
    response = client.post(f"/volunteer/notes/{case_id}/messages", data={"text": long})
    assert response.status_code == 400 and long.strip() in response.get_data(as_text=True)
    with app.app_context():
        assert db.session().scalars(select(Message)).all() == []


def test_withdrawal_needs_a_reason_and_an_undecided_case(app, client, auth, case_id):
    """The volunteer withdraws with a reason; a decided case cannot be withdrawn."""
    auth.login("vol")
    assert client.post(f"/volunteer/notes/{case_id}/withdraw", data={"reason": ""}).status_code == 400
    done = client.post(f"/volunteer/notes/{case_id}/withdraw",
                       data={"reason": "Borgeren ønsker ikke hjælp. Ring 22 33 44 55."})
    assert done.status_code == 302
    with app.app_context():
        case = _case(app, case_id)
        assert case.status == "withdrawn" and case.closed_at is None and case.withdrawn_at
        assert "[TELEFON]" in case.withdrawal_reason
        entry = case.suggestions[0].entry_id
        # Nothing more happens to a withdrawn case: no decision, no close, no question.
        for attempt in (lambda: cases.decide(db.session(), app.extensions["matcher"], case,
                                             user(app, "cw"), entry, "confirm"),
                        lambda: cases.close(db.session(), case, user(app, "cw"), "Tak"),
                        lambda: messages.post(db.session(), case, user(app, "cw"), "Hvorfor?")):
            try:
                attempt()
            except cases.CaseError as exc:
                assert exc.code == "case_closed"
            else:
                raise AssertionError("a withdrawn case was changed")
        cw = user(app, "cw")
        withdrawn = queues.find(db.session(), cw, queues.parse(status="withdrawn"), 50).items
        assert [c.public_id for c in withdrawn] == [case_id]
        assert queues.find(db.session(), cw, queues.parse(), 50).items == []

    decided = add_case(app)
    with app.app_context():
        case = _case(app, decided)
        cases.decide(db.session(), app.extensions["matcher"], case, user(app, "cw"),
                     case.suggestions[0].entry_id, "reject")
    page = client.get(f"/volunteer/notes/{decided}").get_data(as_text=True)
    assert "Træk sagen tilbage" not in page
    refused = client.post(f"/volunteer/notes/{decided}/withdraw", data={"reason": "Fortrudt"},
                          follow_redirects=True)
    assert "allerede taget stilling" in refused.get_data(as_text=True)


def test_api_messages_threads_and_the_volunteers_list(app, client, case_id):
    """The API asks and answers, shows the redacted thread and lists own notes with unread."""
    cw, vol = token_for(client, "cw"), token_for(client, "vol")
    coord, vol2 = token_for(client, "coord"), token_for(client, "vol2")
    newer = add_case(app, "vol", area="andet")
    asked = client.post(f"/api/v1/cases/{case_id}/messages", json={"text": QUESTION}, headers=cw)
    assert asked.status_code == 201
    assert asked.get_json()["status"] == "waiting" and "[TELEFON]" in asked.get_json()["text"]

    listed = client.get("/api/v1/notes", headers=vol).get_json()["items"]
    assert [(n["id"], n["status"], n["unread"]) for n in listed] == [
        (newer, "pending", False), (case_id, "waiting", True)]
    assert client.get("/api/v1/notes", headers=vol2).get_json() == {"items": []}
    assert {n["id"] for n in client.get("/api/v1/notes", headers=coord).get_json()["items"]} == {
        newer, case_id}

    note = client.get(f"/api/v1/notes/{case_id}", headers=vol).get_json()
    assert [(m["from_role"], m["kind"]) for m in note["messages"]] == [("caseworker", "question")]
    assert "22 33 44 55" not in str(note) and note["messages"][0]["created_at"]
    assert client.get("/api/v1/notes", headers=vol).get_json()["items"][1]["unread"] is False

    answer = client.post(f"/api/v1/cases/{case_id}/messages", json={"text": ANSWER}, headers=vol)
    assert answer.status_code == 201 and answer.get_json()["kind"] == "answer"
    assert answer.get_json()["status"] == "pending"
    thread = client.get(f"/api/v1/cases/{case_id}", headers=cw).get_json()["messages"]
    assert [m["kind"] for m in thread] == ["question", "answer"] and "40 50 60 70" not in str(thread)

    for body, status in (({}, 400), ({"text": 5}, 400), ({"text": "x" * 5001}, 400),
                         ({"text": "\u200b\u200b"}, 400)):
        response = client.post(f"/api/v1/cases/{case_id}/messages", json=body, headers=vol)
        assert response.status_code == status and set(response.get_json()) == {"error"}
    assert client.post(f"/api/v1/cases/{case_id}/messages", json={"text": "Hej"},
                       headers=vol2).status_code == 404
    assert client.post(f"/api/v1/cases/{case_id}/messages", json={"text": "Hej"},
                       headers=coord).status_code == 403
    client.post(f"/api/v1/cases/{case_id}/close", json={"message": "Tak."}, headers=cw)
    late = client.post(f"/api/v1/cases/{case_id}/messages", json={"text": "Hej"}, headers=vol)
    assert late.status_code == 409


def test_api_withdraw(app, client, case_id):
    """POST /api/v1/notes/{id}/withdraw needs a reason, and works once."""
    vol = token_for(client, "vol")
    assert client.post(f"/api/v1/notes/{case_id}/withdraw", json={}, headers=vol).status_code == 400
    done = client.post(f"/api/v1/notes/{case_id}/withdraw", json={"reason": "Flyttet"}, headers=vol)
    assert done.status_code == 200 and done.get_json()["status"] == "withdrawn"
    again = client.post(f"/api/v1/notes/{case_id}/withdraw", json={"reason": "Flyttet"}, headers=vol)
    assert again.status_code == 409


def test_a_coordinator_reads_the_thread_but_does_not_write(app, client, case_id):
    """The coordinator's case page has the thread and no answer or withdraw form."""
    with app.app_context():
        messages.post(db.session(), _case(app, case_id), user(app, "cw"), "Bor hun alene?")
    auth = AuthActions(client)
    auth.login("coord")
    page = client.get(f"/volunteer/notes/{case_id}").get_data(as_text=True)
    assert "Bor hun alene?" in page
    assert 'name="text"' not in page and "Træk sagen tilbage" not in page

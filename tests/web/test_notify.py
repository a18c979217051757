"""Volunteers hear back: the unread marker and e-mails through a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from web import cases, cli, create_app, db, messages, notify
from web.models import Notification

from webhelpers import (AuthActions, add_case, base_config, free_port, smtp_config, smtp_server, user,
                        wait_for_senders)

SECRET_QUESTION = "Har fru Jensen stadig sin hund?"


@pytest.fixture
def mail_app(tmp_path, matcher, sqlite_template):
    """An app whose notification e-mails go to a port chosen by the test (server started later)."""
    port = free_port()
    target = tmp_path / "mail.db"
    shutil.copyfile(sqlite_template, target)
    app = create_app({**base_config(tmp_path, f"sqlite:///{target}", matcher), **smtp_config(port)})
    with app.app_context():
        user(app, "vol").email = "frivillig@example.dk"
        db.session().commit()
    app.smtp_port = port
    yield app
    wait_for_senders()
    app.extensions["db_engine"].dispose()


def _outbox(app):
    with app.app_context():
        return [(n.event, n.attempts, n.sent_at is not None, n.last_error)
                for n in db.session().scalars(select(Notification).order_by(Notification.id))]


def test_a_question_and_the_closing_send_a_mail_that_names_no_content(mail_app):
    """The mail says there is news and links to the case: never the note, question or message."""
    case_id = add_case(mail_app)
    with smtp_server(mail_app.smtp_port) as (_, box), mail_app.test_request_context():
        store = db.session()
        messages.post(store, cases.get_case(store, case_id), user(mail_app, "cw"), SECRET_QUESTION)
        [(to, mail)] = box.wait_for(1)
        cases.close(store, cases.get_case(store, case_id), user(mail_app, "cw"),
                    "Visitationen ringer til hende i morgen.")
        mails = box.wait_for(2)
        wait_for_senders()  # the mail is at the server before its thread records it as sent
    assert to == ["frivillig@example.dk"] and mail["From"] == "brobygger@test.invalid"
    assert case_id in mail["Subject"]
    body = mail.get_content()
    assert f"https://brobygger.test/volunteer/notes/{case_id}" in body
    assert "spørgsmål" in body
    closing = mails[1][1].get_content()
    assert "svaret" in closing
    for text in (body, closing, str(mail["Subject"])):
        assert "hund" not in text and "Jensen" not in text and "Visitationen" not in text
        assert "falder" not in text  # the note
    assert _outbox(mail_app) == [("question", 1, True, None), ("closed", 1, True, None)]


def test_a_mail_server_that_is_down_loses_nothing(mail_app):
    """Closing succeeds with SMTP down; the mail waits in the outbox and goes out later."""
    case_id = add_case(mail_app)
    with mail_app.test_request_context():
        store = db.session()
        closed = cases.close(store, cases.get_case(store, case_id), user(mail_app, "cw"), "Tak")
        assert closed.status == "closed"
        wait_for_senders()  # the thread close() started found no server
        assert notify.send_pending(store, mail_app.config) == (0, 1)  # nor does a second try
        assert cases.get_case(store, case_id).status == "closed"
    assert _outbox(mail_app) == [("closed", 2, False, "ConnectionRefusedError")]

    with smtp_server(mail_app.smtp_port) as (_, box), mail_app.app_context():
        assert notify.send_pending(db.session(), mail_app.config) == (1, 0)
        [(to, mail)] = box.wait_for(1)
    assert to == ["frivillig@example.dk"] and case_id in mail["Subject"]
    assert _outbox(mail_app)[0][2] is True


def test_notifications_send_command_empties_the_outbox(mail_app, monkeypatch):
    """`matcher notifications send` sends what waits, and fails with a sentence while SMTP is down."""
    case_id = add_case(mail_app)
    with mail_app.test_request_context():
        store = db.session()
        cases.close(store, cases.get_case(store, case_id), user(mail_app, "cw"), "Tak")
    wait_for_senders()
    monkeypatch.setattr(cli, "create_app", lambda: mail_app)
    down = CliRunner().invoke(cli.notifications, ["send"])
    assert down.exit_code == 1 and "failed and stay in the outbox" in down.output
    with smtp_server(mail_app.smtp_port) as (_, box):
        result = CliRunner().invoke(cli.notifications, ["send"])
        assert result.exit_code == 0 and "Sent 1 notification(s)" in result.output
        assert len(box.wait_for(1)) == 1


def test_the_unread_marker_shows_news_until_the_volunteer_opens_the_case(app, client, case_id):
    """Mine sager marks a case with a question as new; opening it clears the mark for that user."""
    other = add_case(app)
    with app.test_request_context():
        store = db.session()
        messages.post(store, cases.get_case(store, case_id), user(app, "cw"), "Bor hun alene?")
        # No e-mail address: no mail is queued, the marker works all the same.
        assert store.scalars(select(Notification)).all() == []
    auth = AuthActions(client)
    auth.login("coord")
    client.get(f"/volunteer/notes/{case_id}")  # the coordinator's reading is the coordinator's own
    auth.logout()
    auth.login("vol")
    page = client.get("/volunteer/notes").get_data(as_text=True)
    assert page.count('data-unread="true"') == 1 and "1 sag har nyt" in page
    row = page[page.index(case_id) - 200: page.index(case_id) + 400]
    assert "unread" in row and other in page
    client.get(f"/volunteer/notes/{case_id}")
    assert 'data-unread="true"' not in client.get("/volunteer/notes").get_data(as_text=True)
    with app.test_request_context():
        store = db.session()
        cases.close(store, cases.get_case(store, case_id), user(app, "cw"), "Tak")
    assert client.get("/volunteer/notes").get_data(as_text=True).count('data-unread="true"') == 1

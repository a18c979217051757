"""Data protection in the app: admin export and erasure without the text on screen,
audited reads of case text and excerpts, error pages that never echo a note, and
owner-only SQLite files."""
from __future__ import annotations

import json
import os
import stat

import pytest
from sqlalchemy import select, text

from web import cases, create_app, db
from web import db as web_db
from web.models import AuditEvent

from webhelpers import NOTE, add_case, base_config, token_for

# Sentences of NOTE: none may appear on a page that is not meant to show the text.
NOTE_PARTS = ("falder ofte i badet", "selv lave mad", "penge til medicin")


def events(app, action: str | None = None) -> list[tuple[str | None, str, str | None]]:
    """Return (username, action, target) of the audit events, oldest first."""
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return [(e.user.username if e.user else None, e.action, e.target)
                for e in db.session().scalars(query)]


def shows_note(page: str) -> bool:
    return any(part in page for part in NOTE_PARTS)


# --- admin: access and erasure on request -------------------------------------------------

def test_admin_finds_a_case_without_seeing_its_text(client, auth, case_id):
    """The admin page shows the case's metadata and counts, never the note."""
    assert all(part in NOTE for part in NOTE_PARTS)
    auth.login("adm")
    page = client.get(f"/admin/cases?ref={case_id.lower()}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and case_id in body and "Røde Kors Aalborg" in body
    assert "Hent indsigt (JSON)" in body and "Slet sagen" in body
    assert not shows_note(body)
    assert "Indsigt og sletning" in client.get("/admin/users").get_data(as_text=True)


def test_admin_is_told_when_a_reference_is_unknown(client, auth):
    """An unknown reference answers 404 with a sentence saying what to check."""
    auth.login("adm")
    page = client.get("/admin/cases?ref=AAAA-BBBB-CCCC-DDDD")
    assert page.status_code == 404
    assert "Ingen sag har referencen AAAA-BBBB-CCCC-DDDD" in page.get_data(as_text=True)
    assert client.post("/admin/cases/AAAA-BBBB-CCCC-DDDD/export").status_code == 404
    assert client.post("/admin/cases/AAAA-BBBB-CCCC-DDDD/delete",
                       data={"confirm": "AAAA-BBBB-CCCC-DDDD"}).status_code == 404


def test_admin_export_is_an_audited_download(app, client, auth, case_id):
    """The export comes as a JSON attachment with the text, and names the admin in the log."""
    auth.login("adm")
    response = client.post(f"/admin/cases/{case_id}/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="brobygger-{case_id}.json"')
    assert response.headers["Cache-Control"] == "no-store"
    record = json.loads(response.get_data(as_text=True))
    assert record["case"]["reference"] == case_id and "falder ofte i badet" in record["case"]["text"]
    assert ("adm", "case.export", case_id) in events(app)


def test_admin_deletion_needs_the_reference_typed_again(app, client, auth, case_id):
    """A wrong confirmation keeps the case (400); the right one deletes it and logs the admin."""
    auth.login("adm")
    wrong = client.post(f"/admin/cases/{case_id}/delete", data={"confirm": "ja"})
    assert wrong.status_code == 400 and "Referencen passede ikke" in wrong.get_data(as_text=True)
    assert not shows_note(wrong.get_data(as_text=True))
    with app.app_context():
        assert cases.get_case(db.session(), case_id) is not None
    done = client.post(f"/admin/cases/{case_id}/delete", data={"confirm": case_id.lower()},
                       follow_redirects=True)
    assert "Sagen er slettet" in done.get_data(as_text=True)
    with app.app_context():
        assert cases.get_case(db.session(), case_id) is None
    assert events(app, "case.delete") == [("adm", "case.delete", case_id)]


# --- every read of case text or an excerpt is audited ---------------------------------------

def test_queue_page_and_api_record_each_listed_case(app, client, auth):
    """The queue (page and API) leaves one queue.view per case it lists, and a reload within a
    minute no second one (the same caseworker read the same excerpt)."""
    first, second = add_case(app), add_case(app, area="flygtning")
    auth.login("cw")
    assert client.get("/caseworker/queue").status_code == 200
    assert events(app, "queue.view") == [("cw", "queue.view", first), ("cw", "queue.view", second)]
    assert client.get("/caseworker/queue").status_code == 200
    api = app.test_client()
    items = api.get("/api/v1/queue?area=flygtning", headers=token_for(api, "cw")).get_json()["items"]
    assert [i["id"] for i in items] == [second] and items[0]["excerpt"]
    assert len(events(app, "queue.view")) == 2
    api.get("/api/v1/queue?area=flygtning", headers=token_for(api, "cw2"))
    assert events(app, "queue.view")[-1] == ("cw2", "queue.view", second)


def test_mine_sager_records_each_excerpt_shown(app, client, auth):
    """"Mine sager" shows excerpts, so each listed case is audited for the reader."""
    mine = add_case(app)
    add_case(app, username="vol2")  # a colleague's: neither shown to "vol" nor recorded
    add_case(app, username="other")
    auth.login("vol")
    page = client.get("/volunteer/notes").get_data(as_text=True)
    assert "falder ofte i badet" in page
    assert events(app, "note.list") == [("vol", "note.list", mine)]


def test_the_receipt_is_audited(app, client, auth, case_id):
    """The receipt, where the volunteer checks what was stored, leaves note.receipt."""
    auth.login("vol")
    assert client.get(f"/volunteer/notes/{case_id}/receipt").status_code == 200
    assert events(app, "note.receipt") == [("vol", "note.receipt", case_id)]


def test_a_close_form_error_that_shows_the_note_again_is_audited(app, client, auth, case_id):
    """The case page shown again after a bad close form reads the note: case.view."""
    auth.login("cw")
    response = client.post(f"/caseworker/cases/{case_id}/close", data={"message": "x" * 5001})
    assert response.status_code == 400 and shows_note(response.get_data(as_text=True))
    assert events(app, "case.view") == [("cw", "case.view", case_id)]


def test_the_export_lists_who_read_the_case(app, client, auth, case_id):
    """Queue rows, excerpts and case views all end up in the case's export."""
    for username, path in (("cw", "/caseworker/queue"), ("cw", f"/caseworker/cases/{case_id}"),
                           ("vol", "/volunteer/notes"), ("vol", f"/volunteer/notes/{case_id}")):
        reader = app.test_client()
        reader.post("/login", data={"username": username, "password": "korrekt-hest-batteri"})
        assert reader.get(path).status_code == 200
    auth.login("adm")
    record = json.loads(client.post(f"/admin/cases/{case_id}/export").get_data(as_text=True))
    trail = [(e["user"], e["action"]) for e in record["audit_events"]]
    assert trail == [("vol", "note.submit"), ("cw", "queue.view"), ("cw", "case.view"),
                     ("vol", "note.list"), ("vol", "note.view"), ("adm", "case.export")]


# --- error pages never echo the note --------------------------------------------------------

MARKER = "Fru Zebrafinke bor alene og kan ikke længere gå på trapper uden hjælp."


def test_error_pages_do_not_echo_the_note(app, client, auth, monkeypatch):
    """413, 500 and the API's 400 answer without quoting what was sent."""
    auth.login("vol")
    too_big = client.post("/volunteer/notes/new",
                          data={"text": MARKER * 4000, "area": "andet", "consent": "y"})
    assert too_big.status_code == 413 and "Zebrafinke" not in too_big.get_data(as_text=True)

    def broken(*_args, **_kwargs):
        raise RuntimeError(MARKER)
    monkeypatch.setattr(cases, "submit_note", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    failed = client.post("/volunteer/notes/new", data={"text": MARKER, "area": "andet",
                                                       "consent": "y"})
    assert failed.status_code == 500 and "Zebrafinke" not in failed.get_data(as_text=True)
    monkeypatch.undo()

    api = app.test_client()
    refused = api.post("/api/v1/notes", headers=token_for(api, "vol"),
                       json={"text": MARKER * 100, "consent": True})
    assert refused.status_code == 400 and "Zebrafinke" not in refused.get_data(as_text=True)


@pytest.fixture
def csrf_app(tmp_path, matcher):
    """An app with CSRF protection on, as in production."""
    from webhelpers import build_app

    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'csrf.db'}", matcher)
    app = build_app({**config, "WTF_CSRF_ENABLED": True})
    yield app
    app.extensions["db_engine"].dispose()


def test_an_expired_form_page_does_not_echo_the_note(csrf_app):
    """A note sent with a stale CSRF token gets the error page, without the note."""
    client = csrf_app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"username": "vol", "password": "korrekt-hest-batteri",
                                "csrf_token": token})
    response = client.post("/volunteer/notes/new", data={
        "text": MARKER, "area": "andet", "consent": "y", "csrf_token": "stale"})
    assert response.status_code == 400 and "Zebrafinke" not in response.get_data(as_text=True)


# --- the SQLite store is private to its owner -----------------------------------------------

def test_sqlite_files_and_instance_folder_are_owner_only(tmp_path, matcher):
    """A new database, its WAL and SHM files and the instance folder: 0600 and 0700."""
    instance = tmp_path / "fresh" / "instance"
    config = base_config(tmp_path, f"sqlite:///{instance / 'brobygger.db'}", matcher)
    config.update(INSTANCE_DIR=str(instance), SECRET_KEY=None)
    previous = os.umask(0o022)  # the usual umask, which alone would give 0644 and 0755
    try:
        app = create_app(config)
        engine = app.extensions["db_engine"]
        web_db.upgrade(engine)
        with engine.connect() as connection:  # an open connection keeps -wal and -shm
            connection.execute(text("SELECT count(*) FROM cases"))
            names = sorted(p.name for p in instance.iterdir())
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in instance.iterdir()}
        engine.dispose()
    finally:
        os.umask(previous)
    assert names == ["brobygger.db", "brobygger.db-shm", "brobygger.db-wal", "secret_key"]
    assert set(modes.values()) == {0o600}
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700


def test_a_database_in_an_existing_folder_leaves_the_folder_alone(tmp_path, matcher):
    """Only what the app creates is restricted: an existing folder keeps its mode."""
    tmp_path.chmod(0o755)
    app = create_app(base_config(tmp_path, f"sqlite:///{tmp_path / 'own.db'}", matcher))
    web_db.upgrade(app.extensions["db_engine"])
    app.extensions["db_engine"].dispose()
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "own.db").stat().st_mode) == 0o600

"""Admin pages: users, set-password links, roles and the audit log."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from web import db
from web.models import PasswordLink, utcnow

from webhelpers import PASSWORD, AuthActions, token_for, user

NEW_PASSWORD = "grøn-cykel-under-træet"


def link_path(response) -> str:
    """The set-password link shown on the admin's page, as a path."""
    assert response.status_code == 201, response.status_code
    url = re.search(r'id="password-link">([^<]+)<', response.get_data(as_text=True)).group(1)
    return urlsplit(url).path


def set_password(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    """Use a set-password link."""
    return client.post(path, data={"password": password, "confirm": confirm or password})


def test_new_users_choose_their_own_password_from_a_one_time_link(app, client, auth):
    """The admin gets a link, not a password; the user sets one; the link works once."""
    auth.login("adm")
    response = client.post("/admin/users", data={
        "username": "Ny.Frivillig", "role": "volunteer", "organisation": "Kirkens Korshær",
        "password": "et-langt-kodeord"})  # a password field is ignored: there is none
    path = link_path(response)
    assert path.startswith("/password/") and "ny.frivillig" in response.get_data(as_text=True)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "ny.frivillig" in page and "Kirkens Korshær" in page and path not in page
    # Nothing the admin typed or saw is a password of the account.
    for guess in ("et-langt-kodeord", "", "!unset", path.rsplit("/", 1)[1]):
        assert AuthActions(app.test_client()).login("ny.frivillig", guess).status_code != 302

    holder = app.test_client()
    assert "ny.frivillig" in holder.get(path).get_data(as_text=True)
    weak = set_password(holder, path, "password1234")
    assert weak.status_code == 400 and "for let at gætte" in weak.get_data(as_text=True)
    mismatch = set_password(holder, path, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert mismatch.status_code == 400 and "ikke ens" in mismatch.get_data(as_text=True)
    done = set_password(holder, path)
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert AuthActions(app.test_client()).login("ny.frivillig", NEW_PASSWORD).status_code == 302
    assert holder.get(path).status_code == 404, "a link works once"
    assert set_password(holder, path, "endnu-en-ny-adgangskode").status_code == 404


def test_links_expire_after_a_day(app, client, auth):
    """A link older than PASSWORD_LINK_TTL (24 h by default) no longer works."""
    assert app.config["PASSWORD_LINK_TTL"] == 24 * 3600
    auth.login("adm")
    path = link_path(client.post("/admin/users", data={"username": "sen", "role": "caseworker"}))
    with app.app_context():
        link = db.session().scalar(select(PasswordLink))
        assert timedelta(hours=23, minutes=59) < link.expires_at - utcnow() <= timedelta(hours=24)
        link.expires_at = utcnow() - timedelta(seconds=1)
        db.session().commit()
    page = app.test_client().get(path)
    assert page.status_code == 404 and "udløbet" in page.get_data(as_text=True)


def test_reset_gives_a_new_link_and_ends_the_old_sessions(app, client, auth):
    """An admin resets a lost password: the user sets a new one, old logins end."""
    owner = app.test_client()
    AuthActions(owner).login("cw")
    token = token_for(app.test_client(), "cw")
    auth.login("adm")
    with app.app_context():
        cw_id = user(app, "cw").id
    path = link_path(client.post(f"/admin/users/{cw_id}/reset"))
    assert owner.get("/caseworker/queue").status_code == 200, "nothing ends before the link is used"
    assert set_password(app.test_client(), path).status_code == 302
    assert owner.get("/caseworker/queue").status_code == 302
    assert app.test_client().get("/api/v1/queue", headers=token).status_code == 401
    assert AuthActions(app.test_client()).login("cw", PASSWORD).status_code == 401
    assert AuthActions(app.test_client()).login("cw", NEW_PASSWORD).status_code == 302
    second = link_path(client.post(f"/admin/users/{cw_id}/reset"))
    third = link_path(client.post(f"/admin/users/{cw_id}/reset"))
    assert app.test_client().get(second).status_code == 404, "a newer link replaces an older"
    assert app.test_client().get(third).status_code == 200
    with app.app_context():
        adm_id = user(app, "adm").id
    assert client.post(f"/admin/users/{adm_id}/reset").status_code == 400
    assert client.post("/admin/users/9999/reset").status_code == 404


def test_admin_changes_a_role_and_it_is_audited(app, client, auth):
    """Roles change between caseworker and admin; volunteers and oneself are refused."""
    auth.login("adm")
    with app.app_context():
        cw_id, vol_id, adm_id = (user(app, n).id for n in ("cw", "vol", "adm"))
    assert client.post(f"/admin/users/{cw_id}/role", data={"role": "admin"}).status_code == 302
    promoted = app.test_client()
    AuthActions(promoted).login("cw")
    assert promoted.get("/admin/users").status_code == 200
    refused = client.post(f"/admin/users/{cw_id}/role", data={"role": "volunteer"},
                          follow_redirects=True)
    assert "skal høre til en organisation" in refused.get_data(as_text=True)
    assert client.post(f"/admin/users/{adm_id}/role", data={"role": "caseworker"}).status_code == 400
    assert client.post(f"/admin/users/{vol_id}/role", data={"role": "king"}).status_code == 400
    client.post(f"/admin/users/{vol_id}/role", data={"role": "caseworker"})
    with app.app_context():
        assert user(app, "vol").role == "caseworker" and user(app, "vol").organisation is None


def test_admin_sees_why_a_user_was_refused(client, auth):
    """Account errors come back in words, with status 400."""
    auth.login("adm")
    response = client.post("/admin/users", data={
        "username": "x9", "role": "volunteer", "organisation": ""})
    assert response.status_code == 400
    assert "En frivillig skal høre til en organisation." in response.get_data(as_text=True)


def test_deactivation_revokes_sessions_and_tokens_for_good(app, client, auth):
    """Deactivating ends the user's logins and tokens; reactivating does not revive them."""
    victim = app.test_client()
    AuthActions(victim).login("vol")
    token = token_for(app.test_client(), "vol")
    auth.login("adm")
    with app.app_context():
        vol_id, adm_id = user(app, "vol").id, user(app, "adm").id
    assert client.post(f"/admin/users/{vol_id}/active").status_code == 302
    assert AuthActions(app.test_client()).login("vol", PASSWORD).status_code == 401
    assert victim.get("/volunteer/notes").status_code == 302
    assert client.post(f"/admin/users/{adm_id}/active").status_code == 400
    assert client.post("/admin/users/9999/active").status_code == 404
    client.post(f"/admin/users/{vol_id}/active")  # reactivated
    assert victim.get("/volunteer/notes").status_code == 302, "the old session stays dead"
    assert app.test_client().get("/api/v1/notes/X", headers=token).status_code == 401
    assert AuthActions(app.test_client()).login("vol", PASSWORD).status_code == 302


def test_audit_log_shows_who_created_changed_and_reset(app, client, auth):
    """Creating, changing the role of and resetting an account are audited with the admin."""
    auth.login("adm")
    path = link_path(client.post("/admin/users", data={"username": "cw9", "role": "caseworker"}))
    with app.app_context():
        cw9 = user(app, "cw9").id
    client.post(f"/admin/users/{cw9}/role", data={"role": "admin"})
    link_path(client.post(f"/admin/users/{cw9}/reset"))
    assert path
    page = client.get("/admin/audit").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>\s*<td><code>([^<]*)</code></td>"
                      r"\s*<td>([^<]*)</td>", page)
    assert rows[:3] == [("adm", "user.reset", "cw9"),
                        ("adm", "user.role", "cw9: caseworker -&gt; admin"),
                        ("adm", "user.create", "cw9 (caseworker)")]
    # Newest first, the admin's own login is the row just before the account was created.
    assert [(who, event) for who, event, _ in rows[:4]] == [
        ("adm", "user.reset"), ("adm", "user.role"), ("adm", "user.create"), ("adm", "login")]

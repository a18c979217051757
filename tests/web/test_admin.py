"""Admin pages: users and the audit log."""
from __future__ import annotations

from webhelpers import AuthActions, PASSWORD


def test_admin_creates_a_volunteer_who_can_log_in(app, client, auth):
    """A new volunteer (with a new organisation) can log in straight away."""
    auth.login("adm")
    response = client.post("/admin/users", data={
        "username": "Ny.Frivillig", "role": "volunteer", "organisation": "Kirkens Korshær",
        "password": "et-langt-kodeord"})
    assert response.status_code == 302
    page = client.get("/admin/users").get_data(as_text=True)
    assert "ny.frivillig" in page and "Kirkens Korshær" in page
    fresh = app.test_client()
    assert AuthActions(fresh).login("ny.frivillig", "et-langt-kodeord").status_code == 302


def test_admin_sees_why_a_user_was_refused(client, auth):
    """Account errors come back in words, with status 400."""
    auth.login("adm")
    response = client.post("/admin/users", data={
        "username": "x9", "role": "volunteer", "organisation": "", "password": "et-langt-kodeord"})
    assert response.status_code == 400
    assert "En frivillig skal høre til en organisation." in response.get_data(as_text=True)


def test_deactivation_blocks_login_and_not_oneself(app, client, auth):
    """A deactivated user cannot log in; admins cannot deactivate themselves."""
    from webhelpers import user

    auth.login("adm")
    with app.app_context():
        vol_id, adm_id = user(app, "vol").id, user(app, "adm").id
    assert client.post(f"/admin/users/{vol_id}/active").status_code == 302
    assert AuthActions(app.test_client()).login("vol", PASSWORD).status_code == 401
    assert client.post(f"/admin/users/{adm_id}/active").status_code == 400
    assert client.post("/admin/users/9999/active").status_code == 404
    client.post(f"/admin/users/{vol_id}/active")
    assert AuthActions(app.test_client()).login("vol", PASSWORD).status_code == 302


def test_audit_log_lists_events(client, auth):
    """The audit log shows logins and user changes, newest first."""
    auth.login("adm")
    client.post("/admin/users", data={"username": "cw9", "role": "caseworker",
                                      "password": "et-langt-kodeord"})
    page = client.get("/admin/audit").get_data(as_text=True)
    assert page.index("user.create") < page.index("login")
    assert "cw9" in page

"""Admin pages: users, set-password links, roles and the audit log."""
from __future__ import annotations

import csv
import io
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

import web
from web import auditlog, db
from web.accounts import ASSIGNABLE_ROLES, AccountError, set_active, update_user
from web.auditlog import ACTION_NAMES
from web.models import DECISIONS, MESSAGE_KINDS, AuditEvent, Case, PasswordLink, User, utcnow

from webhelpers import (ORG_A, ORG_B, PASSWORD, AuthActions, add_case, token_for, user)

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


def events(app, *actions) -> list[tuple[str | None, str, str | None]]:
    """(username, action, target) of the audit events with these actions, oldest first."""
    with app.app_context():
        rows = db.session().scalars(select(AuditEvent).where(AuditEvent.action.in_(actions))
                                    .order_by(AuditEvent.id))
        return [(e.user.username if e.user else None, e.action, e.target) for e in rows]


def edit(client, user_id: int, role: str, organisation: str = ""):
    """Submit a user's row on the user list (role and organisation)."""
    return client.post(f"/admin/users/{user_id}/role",
                       data={"role": role, "organisation": organisation})


def test_admin_edits_role_and_organisation_and_it_is_audited(app, client, auth):
    """Any assignable role, with an organisation exactly for volunteers and coordinators."""
    auth.login("adm")
    with app.app_context():
        cw_id, cw2_id, vol_id, vol2_id = (user(app, n).id for n in ("cw", "cw2", "vol", "vol2"))
    assert edit(client, cw_id, "admin").status_code == 302
    promoted = app.test_client()
    AuthActions(promoted).login("cw")
    assert promoted.get("/admin/users").status_code == 200

    refused = edit(client, cw2_id, "volunteer")
    assert refused.status_code == 400
    assert "skal høre til en organisation" in refused.get_data(as_text=True)
    assert edit(client, cw2_id, "volunteer", "  Kirkens Korshær ").status_code == 302
    moved = app.test_client()
    AuthActions(moved).login("cw2")
    assert moved.get("/volunteer/notes").status_code == 200
    assert moved.get("/caseworker/queue").status_code == 403, "the old role's pages are gone"

    assert edit(client, vol2_id, "coordinator", ORG_B).status_code == 302
    assert edit(client, vol_id, "caseworker", ORG_A).status_code == 302  # the organisation goes
    with app.app_context():
        assert user(app, "cw2").organisation.name == "Kirkens Korshær"
        assert (user(app, "vol2").role, user(app, "vol2").organisation.name) == ("coordinator", ORG_B)
        assert user(app, "vol").role == "caseworker" and user(app, "vol").organisation is None
    assert events(app, "user.role", "user.organisation") == [
        ("adm", "user.role", "cw: caseworker -> admin"),
        ("adm", "user.role", "cw2: caseworker -> volunteer"),
        ("adm", "user.organisation", "cw2: - -> Kirkens Korshær"),
        ("adm", "user.role", "vol2: volunteer -> coordinator"),
        ("adm", "user.organisation", f"vol2: {ORG_A} -> {ORG_B}"),
        ("adm", "user.role", "vol: volunteer -> caseworker"),
        ("adm", "user.organisation", f"vol: {ORG_A} -> -"),
    ]
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Brugeren er ændret." in page
    # Every row offers exactly the roles an account can have.
    offered = re.findall(r'<select id="role-(\d+)" name="role">(.*?)</select>', page, re.S)
    assert offered and all(re.findall(r'<option value="([a-z]+)"', options) == list(ASSIGNABLE_ROLES)
                           for _, options in offered)


@pytest.mark.parametrize("data,message", [
    ({"role": "king"}, "Vælg en af rollerne på listen."),
    ({}, "Vælg en af rollerne på listen."),
    ({"role": "volunteer", "organisation": "x" * 121}, "må højst være 120 tegn"),
    ({"role": "coordinator", "organisation": "   "}, "skal høre til en organisation"),
])
def test_a_refused_edit_says_why_and_changes_nothing(app, client, auth, data, message):
    """Bad input on the user list is a 400 page with the reason, never a 500."""
    auth.login("adm")
    with app.app_context():
        vol_id = user(app, "vol").id
    response = client.post(f"/admin/users/{vol_id}/role", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        assert (user(app, "vol").role, user(app, "vol").organisation.name) == ("volunteer", ORG_A)
    assert events(app, "user.role", "user.organisation") == []


def test_the_last_admin_cannot_demote_or_deactivate_themselves(app, client, auth):
    """There is always an active admin; with another one, an admin may step down."""
    auth.login("adm")
    with app.app_context():
        adm_id, cw_id = user(app, "adm").id, user(app, "cw").id
    for response in (edit(client, adm_id, "caseworker"), client.post(f"/admin/users/{adm_id}/active")):
        assert response.status_code == 400
        assert "adm er den eneste aktive administrator" in response.get_data(as_text=True)
    # A deactivated admin does not count as the other one.
    edit(client, cw_id, "admin")
    client.post(f"/admin/users/{cw_id}/active")
    assert edit(client, adm_id, "caseworker").status_code == 400
    with app.app_context():
        assert user(app, "adm").role == "admin" and user(app, "adm").active
    client.post(f"/admin/users/{cw_id}/active")  # reactivated: now there are two

    stepped_down = edit(client, adm_id, "caseworker")
    assert stepped_down.status_code == 302 and stepped_down.headers["Location"] == "/"
    assert client.get("/admin/users").status_code == 403
    assert client.get("/caseworker/queue").status_code == 200
    other = app.test_client()
    AuthActions(other).login("cw")
    refused = other.post(f"/admin/users/{cw_id}/active")
    assert refused.status_code == 400 and "cw er den eneste aktive administrator" in refused.get_data(as_text=True)


def test_an_admin_may_deactivate_their_own_account_while_another_admin_remains(app, client, auth):
    """Stepping out ends the admin's own session at once; the other admin can bring it back."""
    auth.login("adm")
    with app.app_context():
        adm_id, cw_id = user(app, "adm").id, user(app, "cw").id
    edit(client, cw_id, "admin")
    response = client.post(f"/admin/users/{adm_id}/active", follow_redirects=True)
    assert response.request.path == "/login"
    assert "Du har deaktiveret din egen bruger" in response.get_data(as_text=True)
    assert client.get("/admin/users").status_code == 302
    assert AuthActions(app.test_client()).login("adm").status_code == 401
    assert events(app, "user.deactivate")[-1] == ("adm", "user.deactivate", "adm")


def test_reset_is_refused_in_words_for_oneself_and_for_a_deactivated_user(app, client, auth):
    """No link for oneself (use another admin or the CLI) nor for a deactivated account."""
    auth.login("adm")
    with app.app_context():
        adm_id, vol_id = user(app, "adm").id, user(app, "vol").id
    own = client.post(f"/admin/users/{adm_id}/reset")
    assert own.status_code == 400 and "matcher users set-password" in own.get_data(as_text=True)
    client.post(f"/admin/users/{vol_id}/active")
    inactive = client.post(f"/admin/users/{vol_id}/reset")
    assert inactive.status_code == 400 and "Genaktivér brugeren først" in inactive.get_data(as_text=True)
    with app.app_context():
        assert db.session().scalar(select(PasswordLink)) is None
    assert events(app, "user.reset") == []


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
        vol_id = user(app, "vol").id
    assert client.post(f"/admin/users/{vol_id}/active").status_code == 302
    assert AuthActions(app.test_client()).login("vol", PASSWORD).status_code == 401
    assert victim.get("/volunteer/notes").status_code == 302
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
    edit(client, cw9, "admin")
    link_path(client.post(f"/admin/users/{cw9}/reset"))
    assert path
    page = client.get("/admin/audit").get_data(as_text=True)
    rows = audit_rows(page)
    assert rows[:3] == [("adm", "user.reset", "cw9"),
                        ("adm", "user.role", "cw9: caseworker -&gt; admin"),
                        ("adm", "user.create", "cw9 (caseworker)")]
    # Newest first, the admin's own login is the row just before the account was created.
    assert [(who, event) for who, event, _ in rows[:4]] == [
        ("adm", "user.reset"), ("adm", "user.role"), ("adm", "user.create"), ("adm", "login")]


def audit_rows(page: str) -> list[tuple[str, str, str]]:
    """(user, action code, target) of the rows shown on an audit page, top to bottom."""
    return re.findall(r'<tr>\s*<td[^>]*>[^<]*</td>\s*<td[^>]*>([^<]*)</td>\s*<td[^>]*'
                      r'data-action="([^"]*)">[^<]*</td>\s*<td[^>]*>([^<]*)</td>', page)


def seed(app, rows) -> None:
    """Store audit events (username or None, action, target, time) as the app would."""
    with app.app_context():
        store = db.session()
        ids = {u.username: u.id for u in store.scalars(select(User))}
        store.add_all([AuditEvent(user_id=ids.get(who), action=action, target=target, created_at=at)
                       for who, action, target, at in rows])
        store.commit()


REF1, REF2 = "7KQ2-XM9D-A4TR-0JHW", "8ABC-DEFG-HJKM-NPQR"
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
SEEDED = [
    ("cw", "case.view", REF1, T0),
    ("cw", "case.view", REF2, T0),
    (None, "login.failed", None, T0),
    ("cw", "case.confirm", f"{REF1} servicelov-83", T0 + timedelta(days=1)),
    ("cw2", "case.view", REF1, T0 + timedelta(days=1)),
    # 23:30 UTC on 1 March is 00:30 on 2 March in Copenhagen: it belongs to the 2nd.
    ("cw2", "case.close", REF1, datetime(2026, 3, 1, 23, 30, tzinfo=UTC)),
    ("cw", "case.view", REF1, T0 + timedelta(days=3)),
    ("adm", "user.create", "cw7 (caseworker)", T0 + timedelta(days=3)),
]


def _local_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo("Europe/Copenhagen")).date()


def _expected(app, who="", action="", case="", start="", end=""):
    # The same filters, applied in Python to every stored event (the admin's login included),
    # newest first by time, then by id.
    with app.app_context():
        rows = list(db.session().scalars(select(AuditEvent).order_by(AuditEvent.created_at.desc(),
                                                                     AuditEvent.id.desc())))
        return [(e.user.username if e.user else "–", e.action, e.target or "") for e in rows
                if (not who or (e.user and e.user.username == who))
                and (not action or e.action == action)
                and (not case or (e.target or "").split(" ")[0] == case)
                and (not start or _local_day(e.created_at) >= date.fromisoformat(start))
                and (not end or _local_day(e.created_at) <= date.fromisoformat(end))]


@pytest.mark.parametrize("query", [
    {},
    {"who": "cw"},
    {"who": "CW2"},
    {"action": "case.view"},
    {"case": REF1},
    {"case": REF1.lower()},
    {"who": "cw", "case": REF1},
    {"who": "cw", "action": "case.view", "case": REF1},
    {"from": "2026-03-02"},
    {"to": "2026-03-01"},
    {"from": "2026-03-02", "to": "2026-03-02", "case": REF1},
    {"who": "cw", "action": "case.view", "case": REF1, "from": "2026-03-01", "to": "2026-03-01"},
])
def test_audit_filters_combine(app, client, auth, query):
    """Who, what, which case and which days narrow the log together (days in local time)."""
    seed(app, SEEDED)
    auth.login("adm")
    page = client.get("/admin/audit", query_string=query)
    assert page.status_code == 200
    wanted = {"who": query.get("who", "").lower(), "action": query.get("action", ""),
              "case": query.get("case", "").upper(), "start": query.get("from", ""),
              "end": query.get("to", "")}
    expected = _expected(app, **wanted)
    assert query == {} or len(expected) < len(SEEDED) + 1, "the filter must filter something"
    assert audit_rows(page.get_data(as_text=True)) == expected


def test_a_filter_that_matches_nothing_says_so(app, client, auth):
    """An unknown user or an empty period is an empty page with a sentence, not an error."""
    seed(app, SEEDED)
    auth.login("adm")
    for query in ({"who": "nobody"}, {"to": "2020-01-01"}, {"case": "AAAA-BBBB-CCCC-DDDD"}):
        page = client.get("/admin/audit", query_string=query)
        assert page.status_code == 200 and audit_rows(page.get_data(as_text=True)) == []
        assert "Ingen hændelser passer til filtrene." in page.get_data(as_text=True)


@pytest.mark.parametrize("query,message", [
    ({"from": "2026-13-01"}, "Fra-datoen skal være en dato"),
    ({"from": "1/3/2026"}, "Fra-datoen skal være en dato"),
    ({"to": "2026-02-30"}, "Til-datoen skal være en dato"),
    ({"from": "2026-03-05", "to": "2026-03-01"}, "Fra-datoen ligger efter til-datoen"),
    ({"case": "X" * 81}, "En sagsreference er 19 tegn"),
    ({"case": "7kq"}, "Skriv mindst de første 4 tegn af sagsreferencen"),
    ({"case": "7-K Q"}, "Skriv mindst de første 4 tegn af sagsreferencen"),
    ({"case": "OIL1"}, "uden I, L, O og U"),
    ({"case": f"{REF1}X"}, "uden I, L, O og U"),
    ({"before": "abc"}, "Siden findes ikke"),
    ({"before": "-1"}, "Siden findes ikke"),
    ({"after": "١٢"}, "Siden findes ikke"),
    ({"before": "9" * 30}, "Siden findes ikke"),
])
def test_bad_audit_filters_are_explained(client, auth, query, message):
    """A filter that cannot apply is a 400 page saying why, with the form kept."""
    auth.login("adm")
    page = client.get("/admin/audit", query_string=query)
    assert page.status_code == 400 and message in page.get_data(as_text=True)


REF3, REF4 = "7KQ2-AAAA-BBBB-CCCC", "7KQ3-XM9D-A4TR-0JHW"
#: Beside SEEDED: a case sharing REF1's first 4 characters, one differing in the 4th, and
#: targets that begin like a reference without being a case's (a username, a wish's number).
LOOKALIKES = [
    ("cw", "case.view", REF3, T0 + timedelta(hours=1)),
    ("cw", "case.confirm", f"{REF3} servicelov-83", T0 + timedelta(hours=2)),
    ("cw", "case.view", REF4, T0 + timedelta(hours=3)),
    ("adm", "user.reset", REF1.lower(), T0 + timedelta(hours=4)),
    ("adm", "user.role", f"{REF1.lower()}: caseworker -> admin", T0 + timedelta(hours=5)),
    ("vol", "wish.submit", "72221", T0 + timedelta(hours=6)),
]
BEGINNINGS = [
    ("7kq2", {REF1, REF3}),
    ("7KQ2-XM", {REF1}),
    ("7kq2 xm9d a4", {REF1}),
    ("7KQ2XM9DA4TR0JHW", {REF1}),  # a whole reference without its dashes
    ("7KQ3", {REF4}),
    ("7222", set()),
]


def _of_cases(app, references: set[str]) -> list[tuple[str, str, str]]:
    # Every stored event whose target names one of `references`, newest first.
    return [row for row in _expected(app) if row[2].split(" ")[0] in references]


def test_a_reference_beginning_finds_its_cases_events_on_every_database(store_app):
    """The first characters of a reference, typed in any case with or without dashes and
    spaces, find the events of the cases they begin (on the page and in the CSV alike), not
    another case's and not a target that merely begins alike; on SQLite and PostgreSQL."""
    seed(store_app, SEEDED + LOOKALIKES)
    with store_app.test_request_context():  # the CSV's action names are translated
        store = db.session()
        for typed, references in BEGINNINGS:
            filters = auditlog.parse({"case": typed})
            expected = _of_cases(store_app, references)
            assert bool(expected) == bool(references), typed
            shown = [(e.user.username if e.user else "–", e.action, e.target)
                     for e in auditlog.page(store, filters).events]
            assert shown == expected, typed
            exported = list(csv.reader(io.StringIO("".join(auditlog.export_rows(store, filters))[1:]),
                                       delimiter=";"))[1:]
            assert [(r[2] or "–", r[3], r[5]) for r in exported] == expected[::-1], typed


def test_the_page_and_the_csv_filter_by_a_reference_beginning_alike(app, client, auth):
    """The page lists the events a beginning finds; "Hent som CSV" (the same filter, sent back
    by the form) holds the same rows and records the beginning it was given."""
    seed(app, SEEDED + LOOKALIKES)
    auth.login("adm")
    page = client.get("/admin/audit", query_string={"case": "7kq2 x"}).get_data(as_text=True)
    expected = _of_cases(app, {REF1})
    assert audit_rows(page) == expected and len(expected) == 5
    assert 'name="case" value="7KQ2-X"' in page  # what the export form sends back
    rows = _csv(client.post("/admin/audit/export", data={"case": "7KQ2-X"}))
    assert [(r[2], r[3], r[5]) for r in rows[1:]] == expected[::-1]
    assert events(app, "audit.export") == [("adm", "audit.export", "case=7KQ2-X")]


def test_too_short_a_reference_beginning_is_explained_and_exports_nothing(app, client, auth):
    """Three characters would match thousands of cases: the page says to type at least four,
    and the export refuses the same filter without writing an export event."""
    seed(app, SEEDED)
    auth.login("adm")
    page = client.get("/admin/audit", query_string={"case": "7kq"})
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and audit_rows(text) == []
    assert "Skriv mindst de første 4 tegn af sagsreferencen" in text
    assert 'value="7kq"' in text  # the form keeps what was typed
    response = client.post("/admin/audit/export", data={"case": "7kq"})
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "Skriv mindst de første 4 tegn af sagsreferencen" in response.get_data(as_text=True)
    assert events(app, "audit.export") == []


def _link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_audit_pages_walk_the_whole_filtered_log_and_back(app, client, auth):
    """Keyset pages: each event once, in order, only the filtered ones; newer pages lead back."""
    # Seven events share each second, so page boundaries fall between equal times.
    seed(app, [(("cw", "cw2")[i % 3 == 0], "queue.view", f"T{i:04d}", T0 + timedelta(seconds=i // 7))
               for i in range(330)])
    auth.login("adm")
    expected = _expected(app, who="cw", action="queue.view")
    assert len(expected) == 220
    pages, path = [], "/admin/audit?who=cw&action=queue.view"
    while path:
        text = client.get(path).get_data(as_text=True)
        pages.append(audit_rows(text))
        path = _link(text, "next")
        assert path is None or "who=cw" in path and "action=queue.view" in path
    assert [len(p) for p in pages] == [100, 100, 20]
    assert [row for p in pages for row in p] == expected
    back, path = [], _link(client.get(path or _last_page(client)).get_data(as_text=True), "prev")
    while path:
        text = client.get(path).get_data(as_text=True)
        back.append(audit_rows(text))
        path = _link(text, "prev")
    assert back == pages[:-1][::-1]
    first = client.get("/admin/audit?who=cw&action=queue.view").get_data(as_text=True)
    assert _link(first, "prev") is None


def _last_page(client) -> str:
    path = "/admin/audit?who=cw&action=queue.view"
    while True:
        following = _link(client.get(path).get_data(as_text=True), "next")
        if following is None:
            return path
        path = following


def test_actions_have_danish_names_and_unknown_codes_show_as_stored(app, client, auth):
    """Every code the app writes has a name; one it does not know is shown as it is."""
    seed(app, [("cw", "case.view", REF1, T0), ("cw", "legacy.thing", None, T0)])
    auth.login("adm")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert 'data-action="case.view">Sag læst af sagsbehandler</td>' in page
    assert 'data-action="legacy.thing">legacy.thing</td>' in page
    filtered = client.get("/admin/audit?action=legacy.thing").get_data(as_text=True)
    assert '<option value="legacy.thing" selected>legacy.thing</option>' in filtered
    # The names cover what the code writes (audit.record and record_reads/record_view calls).
    source = "\n".join(p.read_text() for p in Path(web.__file__).parent.rglob("*.py"))
    written = set(re.findall(r'record(?:_reads|_view)?\([^,]+, [^,]+, "([a-z_.]+)"', source))
    written |= {f"case.{d}" for d in DECISIONS} | {f"message.{k}" for k in MESSAGE_KINDS}
    assert written and written <= set(ACTION_NAMES), written - set(ACTION_NAMES)


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_csv_export_has_every_filtered_row_and_is_itself_audited(app, client, auth):
    """The export holds the filtered events (all pages), readable names, and leaves its own event."""
    seed(app, SEEDED + [("cw", "case.view", REF1, T0 + timedelta(seconds=i)) for i in range(150)])
    auth.login("adm")
    rows = _csv(client.post("/admin/audit/export", data={"who": "cw", "case": REF1}))
    assert rows[0] == ["id", "tidspunkt_utc", "bruger", "handling", "handling_navn", "genstand"]
    expected = _expected(app, who="cw", case=REF1)[::-1]  # oldest first
    assert len(expected) == 153
    assert [(r[2], r[3], r[5]) for r in rows[1:]] == expected
    assert rows[1][4] == "Sag læst af sagsbehandler"
    assert datetime.fromisoformat(rows[1][1]) == T0
    assert events(app, "audit.export") == [("adm", "audit.export", f"who=cw case={REF1}")]


def test_csv_cells_cannot_run_as_spreadsheet_formulas(app, client, auth):
    """A target typed by someone (a username, an organisation) is never a formula in Excel."""
    seed(app, [("cw", "user.create", "=HYPERLINK(\"http://x\")", T0),
               ("cw", "user.create", "@SUM(A1)", T0), ("cw", "user.create", "-2+3", T0)])
    auth.login("adm")
    rows = _csv(client.post("/admin/audit/export", data={"action": "user.create"}))
    assert [r[5] for r in rows[1:]] == ["'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "'-2+3"]


def test_a_bad_export_filter_is_explained(client, auth):
    """The export refuses the filters the page refuses, and writes nothing."""
    auth.login("adm")
    response = client.post("/admin/audit/export", data={"from": "i går"})
    assert response.status_code == 400
    assert "Fra-datoen skal være en dato" in response.get_data(as_text=True)


def test_admin_forms_need_their_csrf_token(csrf_app):
    """Editing, deactivating, resetting and exporting are refused without the form's token."""
    client = csrf_app.test_client()

    def token(path):
        page = client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    client.post("/login", data={"username": "adm", "password": PASSWORD, "csrf_token": token("/login")})
    with csrf_app.app_context():
        vol_id = user(csrf_app, "vol").id
    forms = [(f"/admin/users/{vol_id}/role", {"role": "caseworker"}),
             (f"/admin/users/{vol_id}/active", {}), (f"/admin/users/{vol_id}/reset", {}),
             ("/admin/audit/export", {})]
    for path, data in forms:
        assert client.post(path, data=data).status_code == 400
        assert client.post(path, data={**data, "csrf_token": "forged"}).status_code == 400
    with csrf_app.app_context():
        assert (user(csrf_app, "vol").role, user(csrf_app, "vol").active) == ("volunteer", True)
    assert events(csrf_app, "audit.export", "user.reset") == []
    good = token("/admin/users")
    assert client.post("/admin/audit/export", data={"csrf_token": good}).status_code == 200
    assert client.post(f"/admin/users/{vol_id}/active", data={"csrf_token": good}).status_code == 302


def test_action_names_and_admin_messages_in_english(app, client, auth):
    """With English chosen, the log's names and the users page's refusals are English."""
    seed(app, [("cw", "case.view", REF1, T0)])
    auth.login("adm")
    client.post("/language", data={"lang": "en", "next": "/admin/audit"})
    page = client.get("/admin/audit").get_data(as_text=True)
    assert 'data-action="case.view">Case read by caseworker</td>' in page
    assert "Download as CSV" in page and "Sag læst" not in page
    with app.app_context():
        adm_id = user(app, "adm").id
    refused = edit(client, adm_id, "caseworker").get_data(as_text=True)
    assert "adm is the only active administrator" in refused


def _last_login_cell(page: str, user_id: int) -> str:
    row = re.search(rf'<tr id="user-{user_id}"[^>]*>(.*?)</tr>', page, re.S).group(1)
    return re.search(r'<td class="last-login"[^>]*>(.*?)</td>', row, re.S).group(1)


def test_the_user_list_shows_each_users_last_login(app, client, auth):
    """A login on the page or by API token is the user's last login; never logged in says so."""
    with app.app_context():
        cw_id, cw2_id, vol_id = (user(app, n).id for n in ("cw", "cw2", "vol"))
    AuthActions(app.test_client()).login("cw")
    token_for(app.test_client(), "vol")
    AuthActions(app.test_client()).login("cw2", "wrong password")  # a failed login is no login
    auth.login("adm")
    page = client.get("/admin/users").get_data(as_text=True)
    with app.app_context():
        seen = user(app, "cw").last_login_at
        assert utcnow() - seen < timedelta(minutes=1) and user(app, "cw2").last_login_at is None
    assert f'datetime="{seen.isoformat()}"' in _last_login_cell(page, cw_id)
    assert "<time" in _last_login_cell(page, vol_id)
    assert _last_login_cell(page, cw2_id).strip() == "Aldrig"


def test_a_caseworker_who_leaves_gives_their_open_cases_back_to_the_queue(app, client, auth):
    """Deactivating a caseworker, or giving them another role, returns their open cases."""
    first, second, done = add_case(app), add_case(app), add_case(app)
    worker = app.test_client()
    AuthActions(worker).login("cw")
    for reference in (first, second, done):
        assert worker.post(f"/caseworker/cases/{reference}/assign", data={"to": "cw"}).status_code == 302
    assert worker.post(f"/caseworker/cases/{done}/close",
                       data={"message": "Tak for henvendelsen.", "confirmed": "yes"}).status_code == 302
    with app.app_context():
        cw_id = user(app, "cw").id
        holder = {c.public_id: c.assigned_to_id for c in db.session().scalars(select(Case))}
        assert holder == {first: cw_id, second: cw_id, done: cw_id}
    auth.login("adm")
    page = client.post(f"/admin/users/{cw_id}/active", follow_redirects=True).get_data(as_text=True)
    assert "2 sager, som cw havde, er lagt tilbage i køen." in page
    with app.app_context():
        holder = {c.public_id: c.assigned_to_id for c in db.session().scalars(select(Case))}
        assert holder == {first: None, second: None, done: cw_id}, "a closed case keeps who had it"
    assert events(app, "case.assign")[-2:] == [("adm", "case.assign", f"{first} -"),
                                               ("adm", "case.assign", f"{second} -")]

    with app.app_context():
        cw2_id = user(app, "cw2").id
    other = app.test_client()
    AuthActions(other).login("cw2")
    other.post(f"/caseworker/cases/{first}/assign", data={"to": "cw2"})
    page = client.post(f"/admin/users/{cw2_id}/role", data={"role": "admin"},
                       follow_redirects=True).get_data(as_text=True)
    assert "1 sag, som cw2 havde, er lagt tilbage i køen." in page
    with app.app_context():
        assert db.session().scalar(select(Case.assigned_to_id).where(Case.public_id == first)) is None


def test_a_reload_within_a_minute_leaves_one_view_event_in_the_log(app, client, auth, case_id):
    """A caseworker reloading a case page, or a volunteer theirs, is one read; a minute later
    it is a new one. The admin's log filtered by the case shows exactly that."""
    caseworker, volunteer = app.test_client(), app.test_client()
    AuthActions(caseworker).login("cw")
    AuthActions(volunteer).login("vol")
    for _ in range(3):
        assert caseworker.get(f"/caseworker/cases/{case_id}").status_code == 200
        assert volunteer.get(f"/volunteer/notes/{case_id}").status_code == 200
    auth.login("adm")

    def reads():
        page = client.get("/admin/audit", query_string={"case": case_id}).get_data(as_text=True)
        return [(who, action) for who, action, _ in audit_rows(page) if action.endswith(".view")]

    assert reads() == [("vol", "note.view"), ("cw", "case.view")]
    with app.app_context():
        store = db.session()
        for event in store.scalars(select(AuditEvent).where(AuditEvent.action.in_(("case.view", "note.view")))):
            event.created_at -= timedelta(seconds=61)
        store.commit()
    caseworker.get(f"/caseworker/cases/{case_id}")
    assert reads() == [("cw", "case.view"), ("vol", "note.view"), ("cw", "case.view")]


def test_the_last_admin_rule_holds_on_every_database(store_app):
    """The check locks the admins' rows (PostgreSQL's FOR UPDATE): it runs on both backends."""
    with store_app.app_context():
        store = db.session()
        adm, cw = user(store_app, "adm"), user(store_app, "cw")
        with pytest.raises(AccountError, match="last_admin"):
            update_user(store, adm, "caseworker", None)
        with pytest.raises(AccountError, match="last_admin"):
            set_active(store, adm, False)
        store.rollback()
        assert update_user(store, cw, "admin", None) == [("user.role", "caseworker -> admin")]
        store.commit()
        assert update_user(store, adm, "caseworker", None) == [("user.role", "admin -> caseworker")]
        store.commit()
        with pytest.raises(AccountError, match="last_admin"):
            set_active(store, user(store_app, "cw"), False)


#: The statement other_active_admins counts with (FOR UPDATE on PostgreSQL), whitespace collapsed.
_ADMIN_COUNT = "SELECT users.id FROM users WHERE users.role = "


def test_two_admins_demoting_each_other_at_once_leave_one_admin(store_app):
    """Two admins demote each other at the same instant, in two threads and two sessions on
    a real file (or PostgreSQL): one is refused, one admin stays. Each thread waits, right after
    counting the other admins, until the other thread has counted too (1.5 s at most): without a
    lock both would count one other admin, both demotions would be stored and no admin left."""
    with store_app.app_context():
        store = db.session()
        update_user(store, user(store_app, "cw"), "admin", None)
        store.commit()
    engine = store_app.extensions["db_engine"]
    counted = threading.Barrier(2)
    counts = []

    def after_execute(_conn, _cursor, statement, *_args):
        if " ".join(statement.split()).startswith(_ADMIN_COUNT):
            counts.append(threading.current_thread().name)
            try:
                counted.wait(timeout=1.5)
            except threading.BrokenBarrierError:
                pass  # the other thread is kept from counting until this one is done: go on

    def demote(username: str) -> str:
        with store_app.app_context():
            store = db.session()
            try:
                update_user(store, user(store_app, username), "caseworker", None)
                store.commit()
                return "demoted"
            except AccountError as exc:
                store.rollback()
                return exc.code

    event.listen(engine, "after_cursor_execute", after_execute)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = sorted(pool.map(demote, ["adm", "cw"]))
    finally:
        event.remove(engine, "after_cursor_execute", after_execute)
    assert len(counts) == 2, counts  # both really counted, each in its own thread
    assert results == ["demoted", "last_admin"]
    with store_app.app_context():
        admins = db.session().scalars(select(User.username).where(User.role == "admin",
                                                                  User.active.is_(True)))
        assert len(list(admins)) == 1

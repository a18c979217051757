"""A leader sees aggregates only: no page or endpoint gives a leader case text or excerpts.

Every rule of the app's url_map is tried, with every method it takes, as a logged-in leader and
with a leader's bearer token, so a route added later is covered without editing this file.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from web import db
from web.cases import close, decide, top_suggestion
from web.messages import post
from web.models import Case, Suggestion, Wish

from webhelpers import AuthActions, add_case, token_for, user

SECRET_NOTE = ("Fru Testesen på 84 år falder i badet hver uge, og hendes kaniner hedder "
               "Skovmus og Blåbær. Hun kan ikke selv lave mad.")
SECRET_WISHES = "Vi ønsker et lokale til besøgsvenner med mørkegrønne gardiner."
SECRET_MESSAGE = "Visitationen kommer forbi med en badebænk og en flaske hyldebærsaft."
SECRET_WISH = "Vi mangler penge til en tandemcykel med sidevogn."
SECRET_QUESTION = "Er det stadig papegøjen Ibrahim, der vækker hende om natten?"
SECRET_REFERRAL = "Hjælpemiddeldepotet på Hadsundvej"
#: What a leader may open: the overview, its CSV files and the API's aggregate, and the login flow.
LEADER_ENDPOINTS = {"insights.overview", "insights.export", "api.insights", "api.logout",
                    "api.healthz", "api.openapi", "api.token", "auth.index", "auth.login",
                    "auth.logout", "auth.language", "auth.set_password", "static"}


@pytest.fixture
def secrets(app):
    """A decided, closed case and a wish, whose words no leader may see."""
    ref = add_case(app, "vol", SECRET_NOTE, "ældre", SECRET_WISHES)
    with app.app_context():
        store, matcher = db.session(), app.extensions["matcher"]
        case = store.scalar(select(Case).where(Case.public_id == ref))
        best = top_suggestion(case)
        decide(store, matcher, case, user(app, "cw"), best.entry_id, "confirm",
               "Fordi kaninerne Skovmus og Blåbær kræver det.")
        post(store, case, user(app, "cw"), SECRET_QUESTION)
        post(store, case, user(app, "vol"), "Ja, papegøjen Ibrahim bor der stadig.")
        close(store, case, user(app, "cw"), SECRET_MESSAGE, "referred", SECRET_REFERRAL)
        store.add(Wish(organisation_id=case.organisation_id, created_by_id=case.created_by_id,
                       kind="økonomi", text=SECRET_WISH))
        store.commit()
        evidence = [e for s in store.scalars(select(Suggestion)) for e in s.evidence]
        wish_id = store.scalar(select(Wish.id))
        return {"ref": ref, "wish": wish_id, "entry": best.entry_id, "evidence": evidence,
                "user": user(app, "vol2").id}


def _fragments(secrets) -> list[str]:
    words = ["Testesen", "Skovmus", "Blåbær", "mørkegrønne", "hyldebærsaft", "tandemcykel",
             "papegøjen", "Hadsundvej"]
    return words + [e for e in secrets["evidence"] if len(e) > 12]


def _url(rule, secrets) -> str:
    values = {"public_id": secrets["ref"], "wish_id": secrets["wish"], "user_id": secrets["user"],
              "token": "x" * 20, "table_id": "received", "filename": "css/app.css"}
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m.group(1), "1")), rule.rule)


def _requests(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_no_page_or_endpoint_shows_a_leader_case_text(app, secrets):
    """As a logged-in leader and with a leader's token, every route answers without the words."""
    browser = app.test_client()
    assert AuthActions(browser).login("lead").status_code == 302
    api = app.test_client()
    headers = token_for(api, "lead")
    tried = 0
    for rule, method in _requests(app):
        if rule.endpoint in ("auth.logout", "api.logout"):
            continue  # ends the session the rest of the test uses
        url = _url(rule, secrets)
        form = {"entry_id": secrets["entry"], "decision": "confirm", "confirm": secrets["ref"],
                "message": "x", "text": "y" * 30, "kind": "lokaler", "outcome": "granted"}
        for client, kwargs in ((browser, {"data": form}), (api, {"headers": headers, "json": form})):
            response = client.open(url, method=method, **kwargs)
            body = response.get_data(as_text=True)
            response.close()
            leaked = [f for f in _fragments(secrets) if f in body]
            assert leaked == [], f"{method} {url} showed {leaked}"
            if rule.endpoint not in LEADER_ENDPOINTS:
                api_route = url.startswith("/api/")
                if (client is api) == api_route:
                    # The leader's own credentials on the route's kind: refused for the role.
                    assert response.status_code == 403, (method, url, response.status_code)
                elif api_route:
                    assert response.status_code == 401, (method, url)  # a cookie is no token
                else:
                    assert response.status_code == 302, (method, url)  # a token is no login
                    assert response.headers["Location"].startswith("/login"), (method, url)
            tried += 1
    assert tried > 40
    # Nothing above changed a case: a leader's requests are refused before they act.
    with app.app_context():
        case = db.session().scalar(select(Case).where(Case.public_id == secrets["ref"]))
        assert case is not None and case.status == "closed"


def test_the_leader_starts_on_the_overview(client):
    """After login a leader lands on Overblik, whose menu has nothing else."""
    response = AuthActions(client).login("lead")
    assert response.headers["Location"] == "/insights/"
    page = client.get("/insights/").get_data(as_text=True)
    assert "/caseworker/queue" not in page and "/admin/" not in page


def test_a_leader_keeps_an_organisation_only_as_a_leader(app):
    """A leader may come from an organisation's side (and keep it on an edit); made a
    caseworker, the organisation goes; a volunteer needs one."""
    from web.accounts import AccountError, create_user, update_user

    with app.app_context():
        store = db.session()
        side = create_user(store, "forkvinde", "leader", None, "Kirkens Korshær")
        plain = create_user(store, "direktor", "leader", None)
        assert side.organisation.name == "Kirkens Korshær" and plain.organisation is None
        with pytest.raises(AccountError, match="organisation_required"):
            update_user(store, plain, "volunteer", None)
        assert update_user(store, side, "leader", "Kirkens Korshær") == []
        update_user(store, side, "caseworker", "Kirkens Korshær")
        assert side.role == "caseworker" and side.organisation is None
        update_user(store, plain, "caseworker", None)
        assert update_user(store, plain, "leader", None) == [("user.role", "caseworker -> leader")]
        assert plain.organisation is None

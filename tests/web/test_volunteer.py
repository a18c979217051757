"""Volunteer pages: the note form, the receipt and "Mine sager"."""
from __future__ import annotations

import pytest

from web import cases, db

from webhelpers import NOTE, add_case, user

FORM = {"text": NOTE, "area": "ældre", "consent": "y", "wishes": "Et lokale om tirsdagen."}


def test_form_is_accessible(client, auth):
    """Every field has a label; the page works on a phone; consent is a required checkbox."""
    auth.login("vol")
    page = client.get("/volunteer/notes/new").get_data(as_text=True)
    assert 'name="viewport"' in page and '<html lang="da">' in page
    for field in ("text", "consent", "wishes", "area-1", "area-2", "area-3"):
        assert f'for="{field}"' in page and f'id="{field}"' in page
    assert 'type="checkbox" id="consent" name="consent" value="y" required' in page
    assert "Borgerens situation" in page and "Organisationens egne ønsker" in page
    assert "js/note.js" in page


@pytest.mark.parametrize("lang,needles", [
    ("da", ["Navne på personer, CPR-numre, telefonnumre og e-mailadresser bliver fjernet automatisk",
            "Når du sender, fjernes navne og numre", "[NAVN 1]", "[TELEFON]"]),
    ("en", ["Names of people, CPR numbers, phone numbers and e-mail addresses are removed automatically",
            "When you send, names and numbers are removed", "[NAVN 1]", "[TELEFON]"]),
])
def test_form_says_before_sending_that_names_and_numbers_are_removed(client, auth, lang, needles):
    """The notice stands above the send button, in the page's language."""
    client.post("/language", data={"lang": lang})
    auth.login("vol")
    page = client.get("/volunteer/notes/new").get_data(as_text=True)
    start = page.index('id="removal-notice"')
    notice = page[start: page.index('<button type="submit" class="primary"', start)]
    for needle in needles:
        assert needle in page
    assert "[NAVN 2]" in notice and 'aria-describedby="removal-notice"' in page


def test_receipt_shows_the_text_as_it_was_stored(app, client, auth):
    """Names and numbers are gone from the receipt, which shows exactly what is stored; reading it is audited."""
    from sqlalchemy import select

    from web.models import AuditEvent

    auth.login("vol")
    text = ("Besøgte fru Jensen (88) i Vejgaard i dag. Hendes datter Susanne ringer fra 22 33 44 55. "
            "Fru Jensen kan ikke selv komme i bad.")
    response = client.post("/volunteer/notes/new", data={**FORM, "text": text}, follow_redirects=True)
    page = response.get_data(as_text=True)
    with app.app_context():
        [case] = cases.readable_cases(db.session(), user(app, "vol"))
        stored = case.text
        actions = [e.action for e in db.session().scalars(select(AuditEvent)) if e.target == case.public_id]
    assert stored == ("Besøgte fru [NAVN 1] (88) i Vejgaard i dag. Hendes datter [NAVN 2] ringer fra [TELEFON]. "
                      "Fru [NAVN 1] kan ikke selv komme i bad.")
    assert 'id="stored-text">' + stored + "</div>" in page
    assert "Jensen" not in page and "Susanne" not in page and "22 33 44 55" not in page
    assert "Sådan er henvendelsen gemt" in page and "note.receipt" in actions


def test_submit_shows_a_receipt_with_the_reference(app, client, auth):
    """A valid note is stored and the receipt names its reference."""
    auth.login("vol")
    response = client.post("/volunteer/notes/new", data=FORM, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Tak – henvendelsen er modtaget" in page
    with app.app_context():
        [case] = cases.readable_cases(db.session(), user(app, "vol"))
        assert case.public_id in page
        assert case.organisation_wishes == "Et lokale om tirsdagen." and case.area == "ældre"


@pytest.mark.parametrize("change,message", [
    ({"consent": None}, "consent"),
    ({"text": "for kort"}, "text"),
    ({"text": "x" * 5001}, "text"),
    ({"text": ""}, "text"),
    ({"area": "mars"}, "area"),
    ({"wishes": "x" * 2001}, "wishes"),
])
def test_invalid_notes_are_refused_with_the_field_marked(app, client, auth, change, message):
    """The form comes back with an error next to the field and nothing is stored."""
    auth.login("vol")
    data = {k: v for k, v in {**FORM, **change}.items() if v is not None}
    response = client.post("/volunteer/notes/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400, "a refused note is a 400, as on the API"
    assert f'id="{message}-errors"' in page and 'name="text"' in page
    with app.app_context():
        assert cases.readable_cases(db.session(), user(app, "vol")) == []


def test_my_cases_lists_the_volunteers_own_cases_and_the_coordinator_the_organisations(app, client, auth):
    """A volunteer does not read a colleague's notes; the organisation's coordinator reads them all."""
    mine = add_case(app, "vol")
    colleague = add_case(app, "vol2")
    theirs = add_case(app, "other")
    auth.login("vol")
    page = client.get("/volunteer/notes").get_data(as_text=True)
    assert mine in page and colleague not in page and theirs not in page and "Afventer" in page
    assert client.get(f"/volunteer/notes/{colleague}").status_code == 404
    auth.logout()
    auth.login("coord")
    page = client.get("/volunteer/notes").get_data(as_text=True)
    assert mine in page and colleague in page and theirs not in page
    assert "Organisationens sager" in page


def test_volunteers_never_see_raw_suggestions(app, client, auth, case_id):
    """Before closing no suggestion shows; after, only the confirmed ones and the message."""
    with app.app_context():
        store, matcher = db.session(), app.extensions["matcher"]
        case = cases.get_case(store, case_id)
        ranked = sorted(case.suggestions, key=lambda s: s.rank)
        confirmed, rejected = ranked[0], ranked[1]
        titles = [s.title for s in ranked]
    auth.login("vol")
    page = client.get(f"/volunteer/notes/{case_id}").get_data(as_text=True)
    assert not any(title in page for title in titles)
    assert "Sagen er ikke afsluttet endnu" in page

    with app.app_context():
        store = db.session()
        case = cases.get_case(store, case_id)
        cases.decide(store, matcher, case, user(app, "cw"), confirmed.entry_id, "confirm")
        cases.decide(store, matcher, case, user(app, "cw"), rejected.entry_id, "reject")
        cases.close(store, case, user(app, "cw"), "Visitationen ringer i morgen.")
    page = client.get(f"/volunteer/notes/{case_id}").get_data(as_text=True)
    assert confirmed.title in page and rejected.title not in page
    assert "Visitationen ringer i morgen." in page and "Afsluttet" in page
    listing = client.get("/volunteer/notes").get_data(as_text=True)
    assert "1 regel eller tilbud" in listing


def test_a_note_over_the_limit_is_refused_whole_not_cut(app, client, auth):
    """The form does not cut a long text (no maxlength); the server refuses it and gives it back."""
    auth.login("vol")
    form = client.get("/volunteer/notes/new").get_data(as_text=True)
    textarea = form[form.index('<textarea id="text"'):form.index("</textarea>")]
    assert "maxlength" not in textarea and 'data-limit="5000"' in textarea and 'dir="auto"' in textarea
    long = (NOTE + " ") * 60
    assert len(long) > 5000
    response = client.post("/volunteer/notes/new", data={**FORM, "text": long})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and long.strip() in page
    with app.app_context():
        assert cases.readable_cases(db.session(), user(app, "vol")) == []


def test_the_outcome_explains_each_confirmed_entry_with_whom_to_contact(app, client, auth, case_id):
    """A confirmed service shows the corpus's summary and contact; a rule the services that rest on it."""
    matcher = app.extensions["matcher"]
    service = matcher.corpus.get("aalborg-kontaktcentret-visitation")
    rule = next(r for r in matcher.corpus.rules
                if any(r.citation in v.legal_basis and v.contact for v in matcher.corpus.services))
    with app.app_context():
        store = db.session()
        for entry in (service, rule):
            cases.decide(store, matcher, cases.get_case(store, case_id), user(app, "cw"), entry.id, "confirm")
        cases.close(store, cases.get_case(store, case_id), user(app, "cw"), "Ring til Kontaktcentret.")
    auth.login("vol")
    page = client.get(f"/volunteer/notes/{case_id}").get_data(as_text=True)
    assert "Hvad sker der nu?" in page and "tlf. 99 82 50 00" in page
    assert service.summary.split(".")[0] in page and rule.summary.split(".")[0] in page
    assert "Hvor søger man?" in page

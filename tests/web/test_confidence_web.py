"""The engine's verdict with the case (issue 13 §3): stored with the suggestions, "Ingen sikre
forslag" on the caseworker's page with what was found still listed, a marker in the queue, and
both fields in the API's case and queue JSON."""
from __future__ import annotations

from web import cases, db

from webhelpers import NOTE, add_case, token_for

#: A shift swap: nothing in the corpus fits it (the session's engine flags it, tested below).
SHIFT_SWAP = "Kan nogen tage min vagt i genbrugsbutikken på lørdag? Jeg skal til min niece's konfirmation."


def _stored(app, public_id):
    with app.app_context():
        case = cases.get_case(db.session(), public_id)
        return case.confidence, case.no_good_match, len(case.suggestions)


def test_the_verdict_is_stored_with_the_suggestions(app, matcher):
    unsure, sure = add_case(app, note=SHIFT_SWAP), add_case(app, note=NOTE)
    for public_id, note in ((unsure, SHIFT_SWAP), (sure, NOTE)):
        confidence, no_good_match, found = _stored(app, public_id)
        verdict = matcher.match(note, top=10)
        assert (confidence, no_good_match) == (verdict.confidence, verdict.no_good_match)
        assert found == len(verdict) > 0
    assert _stored(app, unsure)[1] is True and _stored(app, sure)[1] is False


def test_the_case_page_says_no_confident_suggestions_and_still_lists_them(app, client, auth):
    unsure, sure = add_case(app, note=SHIFT_SWAP), add_case(app, note=NOTE)
    auth.login("cw")
    page = client.get(f"/caseworker/cases/{unsure}").get_data(as_text=True)
    assert "Ingen sikre forslag." in page and 'id="no-good-match"' in page
    with app.app_context():
        titles = [s.title for s in cases.get_case(db.session(), unsure).suggestions]
    assert titles and all(t in page for t in titles)
    assert 'id="confidence"' in page and "Sandsynlighed for, at det første forslag holder" in page
    page = client.get(f"/caseworker/cases/{sure}").get_data(as_text=True)
    assert "Ingen sikre forslag" not in page and 'id="confidence"' in page


def test_the_queue_marks_the_cases_with_no_confident_suggestions(app, client, auth):
    unsure, sure = add_case(app, note=SHIFT_SWAP), add_case(app, note=NOTE)
    auth.login("cw")
    page = client.get("/caseworker/queue?sort=received").get_data(as_text=True)
    rows = {ref: page[page.index(ref):].split("</tr>", 1)[0] for ref in (unsure, sure)}
    assert 'class="badge no-good-match"' in rows[unsure]
    assert "no-good-match" not in rows[sure]


def test_the_api_case_and_queue_carry_both_fields(app, client):
    unsure = add_case(app, note=SHIFT_SWAP)
    cw = token_for(client, "cw")
    case = client.get(f"/api/v1/cases/{unsure}", headers=cw).get_json()
    assert case["no_good_match"] is True and 0.0 <= case["confidence"] <= 1.0 and case["suggestions"]
    row = next(r for r in client.get("/api/v1/queue", headers=cw).get_json()["items"] if r["id"] == unsure)
    assert row["no_good_match"] is True and row["confidence"] == case["confidence"]

"""Caseworker pages: the queue and the case page."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from web import cases, db
from web.models import AuditEvent

from webhelpers import add_case, user


def _age(app, public_id: str, days: int) -> None:
    with app.app_context():
        store = db.session()
        cases.get_case(store, public_id).created_at -= timedelta(days=days)
        store.commit()


def test_queue_by_receipt_oldest_first_with_age_area_and_top_suggestion(app, client, auth):
    """Sorted by receipt, rows come oldest first, with "for 3 dage siden", area and the top suggestion."""
    newer = add_case(app, area="flygtning")
    older = add_case(app, area="ældre")
    _age(app, older, 3)
    auth.login("cw")
    page = client.get("/caseworker/queue?sort=received").get_data(as_text=True)
    assert page.index(older) < page.index(newer)
    assert "for 3 dage siden" in page and "Flygtning" in page and "Ældre" in page
    assert "Alder" not in page
    with app.app_context():
        top = cases.top_suggestion(cases.get_case(db.session(), older))
    assert top.title in page


def test_queue_filters_by_area_and_status(app, client, auth):
    """The filter form narrows the queue; unknown values are a 400."""
    elderly, refugee = add_case(app, area="ældre"), add_case(app, area="flygtning")
    auth.login("cw")
    page = client.get("/caseworker/queue?area=flygtning").get_data(as_text=True)
    assert refugee in page and elderly not in page
    page = client.get("/caseworker/queue?area=aeldre").get_data(as_text=True)  # as the API takes it
    assert elderly in page and refugee not in page
    with app.app_context():
        cases.close(db.session(), cases.get_case(db.session(), elderly), user(app, "cw"), "Tak.")
    assert elderly not in client.get("/caseworker/queue").get_data(as_text=True)
    assert elderly in client.get("/caseworker/queue?status=closed").get_data(as_text=True)
    assert client.get("/caseworker/queue?status=lost").status_code == 400
    assert client.get("/caseworker/queue?area=mars").status_code == 400


def test_case_page_shows_everything_the_caseworker_needs(app, client, auth):
    """Highlighted evidence, suggestions with citation and source, wishes box, shortcuts."""
    public_id = add_case(app, wishes="Vi mangler et lokale.")
    auth.login("cw")
    page = client.get(f"/caseworker/cases/{public_id}").get_data(as_text=True)
    assert '<mark class="evidence" data-refs="' in page
    with app.app_context():
        case = cases.get_case(db.session(), public_id)
        for s in case.suggestions:
            assert s.title in page and f'id="entry-{s.entry_id}"' in page
            if s.law:
                assert f"{s.law} {s.section}" in page
            if s.source_url:
                assert f'href="{s.source_url}"' in page
    assert "wishes-box" in page and "Vi mangler et lokale." in page
    assert "Tastaturgenveje" in page and "<kbd>j</kbd>" in page and "<kbd>r</kbd>" in page
    assert "js/case.js" in page
    assert re.search(r'<span class="score">0\.\d\d</span>', page)


def test_confirm_reject_search_and_close(app, client, auth):
    """A caseworker confirms, rejects with a reason, adds a missed entry and closes."""
    public_id = add_case(app)
    matcher = app.extensions["matcher"]
    auth.login("cw")
    with app.app_context():
        ranked = sorted(cases.get_case(db.session(), public_id).suggestions,
                        key=lambda s: s.rank)
    url = f"/caseworker/cases/{public_id}"
    response = client.post(f"{url}/decisions",
                           data={"entry_id": ranked[0].entry_id, "decision": "confirm"})
    assert response.headers["Location"].endswith(f"#entry-{ranked[0].entry_id}")
    client.post(f"{url}/decisions", data={"entry_id": ranked[1].entry_id, "decision": "reject",
                                          "reason": "Ikke relevant"})
    page = client.get(url).get_data(as_text=True)
    assert "Bekræftet" in page and "Afvist" in page and "Ikke relevant" in page

    listed = {s.entry_id for s in ranked}
    missed = next(e for e in matcher.corpus.entries if e.id not in listed)
    found = client.get(url, query_string={"q": missed.title}).get_data(as_text=True)
    results = found.split('class="search-results"', 1)[1].split("</ul>", 1)[0]
    assert missed.title in results and f'name="entry_id" value="{missed.id}"' in results
    assert "Tilføj og bekræft" in results
    client.post(f"{url}/decisions", data={"entry_id": missed.id, "decision": "confirm"})
    assert client.post(f"{url}/decisions", data={"entry_id": missed.id,
                                                 "decision": "maybe"}).status_code == 400

    response = client.post(f"{url}/close", data={"message": "Vi kontakter borgeren.",
                                                 "confirmed": "yes"}, follow_redirects=True)
    assert "Sagen er lukket" in response.get_data(as_text=True)
    with app.app_context():
        case = cases.get_case(db.session(), public_id)
        assert case.status == "closed" and case.message == "Vi kontakter borgeren."
        assert {s.entry_id for s in cases.outcome(case)} == {ranked[0].entry_id, missed.id}
    closed_page = client.get(url).get_data(as_text=True)
    assert 'id="close-form"' not in closed_page and 'value="confirm"' not in closed_page
    again = client.post(f"{url}/close", data={"message": "igen", "confirmed": "yes"},
                        follow_redirects=True)
    assert "Sagen er allerede lukket" in again.get_data(as_text=True)


def test_views_and_decisions_are_audited(app, client, auth):
    """Opening a case and deciding leave audit events naming the caseworker."""
    public_id = add_case(app)
    auth.login("cw")
    client.get(f"/caseworker/cases/{public_id}")
    with app.app_context():
        entry = cases.get_case(db.session(), public_id).suggestions[0].entry_id
    client.post(f"/caseworker/cases/{public_id}/decisions",
                data={"entry_id": entry, "decision": "reject"})
    client.post(f"/caseworker/cases/{public_id}/close", data={"reason": "citizen_declines",
                                                              "confirmed": "yes"})
    with app.app_context():
        events = db.session().scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        trail = [(e.user.username if e.user else None, e.action) for e in events]
    assert ("cw", "login") in trail and ("cw", "case.view") in trail
    assert ("cw", "case.reject") in trail and ("cw", "case.close") in trail


def test_too_long_message_keeps_the_case_open(app, client, auth):
    """A message over the limit is refused with the form shown again."""
    public_id = add_case(app)
    auth.login("cw")
    response = client.post(f"/caseworker/cases/{public_id}/close", data={"message": "x" * 5001})
    assert response.status_code == 400 and 'id="message-errors"' in response.get_data(as_text=True)
    with app.app_context():
        assert cases.get_case(db.session(), public_id).status == "pending"

"""The caseworker's queue for a caseload (issue 12 §1, §6): assignment, deadlines, search, pages."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from web import cases, create_app, db, deadlines
from web.models import AuditEvent, Case

from webhelpers import add_case, base_config, token_for


def _shift(app, public_id: str, days: int) -> None:
    """Move a case's receipt and deadline `days` into the past, as if it came in earlier."""
    with app.app_context():
        store = db.session()
        case = cases.get_case(store, public_id)
        case.created_at -= timedelta(days=days)
        case.due_at -= timedelta(days=days)
        store.commit()


def _case(app, public_id: str):
    with app.app_context():
        case = cases.get_case(db.session(), public_id)
        db.session().expunge(case)
        return case


# --- deadlines ------------------------------------------------------------------------------

def test_days_left_counts_calendar_days_in_the_site_time_zone():
    """Due later today is 0 days left, tomorrow 1, yesterday -1, by Copenhagen's calendar."""
    zone = ZoneInfo("Europe/Copenhagen")
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)  # 13:00 in Copenhagen

    def left(due, status="pending"):
        return deadlines.days_left(SimpleNamespace(status=status, due_at=due), now, zone)

    assert left(now + timedelta(days=2)) == 2
    assert left(now + timedelta(hours=10)) == 0  # 23:00 the same day
    assert left(now + timedelta(hours=11)) == 1  # 00:00 the next day
    assert left(now - timedelta(hours=12)) == 0  # 01:00 the same day
    assert left(now - timedelta(hours=14)) == -1  # 23:00 the day before
    assert left(now, status="closed") is None


def test_deadline_days_setting_is_read_and_checked():
    """CASE_DEADLINE_DAYS names days per area; areas left out keep the default; bad values stop."""
    assert deadlines.parse_days("") == deadlines.DEFAULT_DAYS
    assert deadlines.parse_days("flygtning=42, aeldre=14") == {"ældre": 14, "flygtning": 42,
                                                                "andet": 28}
    for bad in ("mars=3", "ældre", "ældre=0", "ældre=fire", "ældre=99999"):
        with pytest.raises(ValueError, match="CASE_DEADLINE_DAYS"):
            deadlines.parse_days(bad)


def test_a_bad_deadline_setting_stops_the_app(tmp_path, matcher):
    """A misspelt area in CASE_DEADLINE_DAYS is an error at start, not a silent default."""
    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", matcher)
    with pytest.raises(ValueError, match="mars"):
        create_app({**config, "CASE_DEADLINE_DAYS": "mars=3"})


def test_the_deadline_is_set_at_receipt_from_the_area(app):
    """A case is due its area's days after receipt (here ældre 14 days, set by the app)."""
    app.config["CASE_DEADLINES"] = deadlines.parse_days("ældre=14")
    case = _case(app, add_case(app, area="ældre"))
    assert case.due_at - case.created_at == timedelta(days=14)
    other = _case(app, add_case(app, area="andet"))
    assert other.due_at - other.created_at == timedelta(days=28)


def test_queue_shows_days_left_and_marks_overdue_first(app, client, auth):
    """Sorted by deadline (the default), an overdue case comes first, marked, with its days over."""
    fresh = add_case(app, area="flygtning")
    late = add_case(app, area="ældre")
    _shift(app, late, 30)  # received 30 days ago, due 28 days after: two calendar days over
    auth.login("cw")
    page = client.get("/caseworker/queue").get_data(as_text=True)
    assert page.index(late) < page.index(fresh)
    assert "2 dage over fristen" in page and 'class="is-overdue"' in page
    assert "28 dage tilbage" in page
    assert "Modtaget" in page and "for 4 uger siden" in page


# --- assignment -----------------------------------------------------------------------------

def test_take_hand_on_and_put_back(app, client, auth):
    """Opening does not take a case; "Tag sagen" does; it can go to a colleague and back."""
    ref = add_case(app)
    auth.login("cw")
    url = f"/caseworker/cases/{ref}"
    assert "Ingen har taget sagen endnu." in client.get(url).get_data(as_text=True)
    assert _case(app, ref).assigned_to_id is None  # opening it did not take it
    response = client.post(f"{url}/assign", data={"to": "cw"}, follow_redirects=True)
    assert "Du har taget sagen." in response.get_data(as_text=True)
    mine = client.get("/caseworker/queue?assigned=me").get_data(as_text=True)
    assert ref in mine and "<h1>Mine sager</h1>" in mine
    assert ref not in client.get("/caseworker/queue?assigned=none").get_data(as_text=True)

    client.post(f"{url}/assign", data={"to": "cw2"})
    assert ref not in client.get("/caseworker/queue?assigned=me").get_data(as_text=True)
    assert ref in client.get("/caseworker/queue?assigned=cw2").get_data(as_text=True)
    queue = client.get("/caseworker/queue").get_data(as_text=True)
    row = queue.split(ref, 1)[1].split("</tr>", 1)[0]
    assert "cw2" in row  # the queue shows who has it

    client.post(f"{url}/assign", data={"to": ""})
    assert ref in client.get("/caseworker/queue?assigned=none").get_data(as_text=True)
    refused = client.post(f"{url}/assign", data={"to": "vol"}, follow_redirects=True)
    assert "Der er ingen aktiv sagsbehandler" in refused.get_data(as_text=True)
    with app.app_context():
        trail = db.session().scalars(select(AuditEvent.target).where(
            AuditEvent.action == "case.assign").order_by(AuditEvent.id)).all()
    assert trail == [f"{ref} cw", f"{ref} cw2", f"{ref} -"]


def test_take_from_the_queue_row(app, client, auth):
    """The queue row has its own "Tag sagen" button, which lands on "Mine sager"."""
    ref = add_case(app)
    auth.login("cw")
    assert "Tag sagen" in client.get("/caseworker/queue").get_data(as_text=True)
    response = client.post(f"/caseworker/cases/{ref}/assign", data={"to": "cw", "back": "queue"})
    assert response.headers["Location"].endswith("/caseworker/queue?assigned=me")


# --- search, filters and pages -------------------------------------------------------------

def test_search_by_reference_and_by_words_with_filters(app, client, auth):
    """?q= finds a reference (whole, its beginning, without dashes) or words of the text; it
    combines with the area filter."""
    fall = add_case(app, note="Hun falder i badet og kan ikke komme op igen uden hjælp.", area="ældre")
    money = add_case(app, note="Familien har ingen penge til husleje denne måned.", area="flygtning")
    auth.login("cw")

    def listed(**query):
        page = client.get("/caseworker/queue", query_string=query)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        return {ref for ref in (fall, money) if ref in text}

    assert listed(q=fall) == {fall}
    assert listed(q=fall.replace("-", "")[:6].lower()) == {fall}
    assert listed(q="badet") == {fall}
    assert listed(q="penge husleje") == {money}
    assert listed(q="penge badet") == set()  # every word must be there
    assert listed(q="penge", area="ældre") == set()
    assert listed(q="penge", area="flygtning") == {money}


def test_pages_follow_each_other_without_gaps(app, client):
    """With 2 cases a page, five cases come on three pages, in order, each once."""
    app.config["QUEUE_PAGE_SIZE"] = 2
    refs = [add_case(app) for _ in range(5)]
    headers = token_for(client, "cw")
    seen, page = [], None
    for _ in range(3):
        answer = client.get("/api/v1/queue", query_string={"page": page} if page else {},
                            headers=headers).get_json()
        seen += [item["id"] for item in answer["items"]]
        page = answer["next"]
    assert seen == refs and page is None


@pytest.mark.parametrize("query,message", [
    ({"sort": "age"}, "sort must be one of"),
    ({"page": "not-a-page"}, "page must be a value of `next`"),
    ({"page": "W10"}, "page must be a value of `next`"),  # base64 of "[]"
    ({"assigned": "nobody"}, "no active caseworker"),
    ({"q": "x" * 201}, "q must be at most 200"),
    ({"sort": ""}, "sort must not be empty"),
])
def test_bad_queue_parameters_are_400(client, query, message):
    """Unknown sorts, pages we did not hand out and unknown assignees are refused with a sentence."""
    response = client.get("/api/v1/queue", query_string=query, headers=token_for(client, "cw"))
    assert response.status_code == 400 and message in response.get_json()["error"]


def test_the_queue_page_refuses_a_bad_page_with_a_sentence(client, auth):
    """A page value that was not handed out is a 400 with words, not a 500."""
    auth.login("cw")
    response = client.get("/caseworker/queue?page=%C3%A6%C3%A6")
    assert response.status_code == 400
    assert "Siden findes ikke længere" in response.get_data(as_text=True)


# --- the API --------------------------------------------------------------------------------

def test_api_queue_items_say_who_has_the_case_and_its_deadline(app, client):
    """Each item has assigned_to and deadline; assigned=me|none|USERNAME filter; sort=received."""
    first, second = add_case(app), add_case(app)
    _shift(app, second, 3)
    cw = token_for(client, "cw")
    assert client.post(f"/api/v1/cases/{first}/assign", json={"to": "cw"}, headers=cw).get_json() == {
        "id": first, "assigned_to": "cw"}
    items = client.get("/api/v1/queue?sort=received", headers=cw).get_json()["items"]
    assert [i["id"] for i in items] == [second, first]
    assert items[1]["assigned_to"] == "cw" and items[0]["assigned_to"] is None
    assert items[0]["days_left"] == 25 and items[0]["deadline"].startswith(
        _case(app, second).due_at.isoformat()[:16])
    assert [i["id"] for i in client.get("/api/v1/queue?assigned=me", headers=cw).get_json()["items"]] == [first]
    assert [i["id"] for i in client.get("/api/v1/queue?assigned=none", headers=cw).get_json()["items"]] == [second]
    assert [i["id"] for i in client.get("/api/v1/queue?assigned=cw", headers=cw).get_json()["items"]] == [first]
    back = client.post(f"/api/v1/cases/{first}/assign", json={"to": None}, headers=cw)
    assert back.status_code == 200 and back.get_json()["assigned_to"] is None
    for body in ({}, {"to": 5}, {"to": "vol"}):
        assert client.post(f"/api/v1/cases/{first}/assign", json=body, headers=cw).status_code == 400


def test_api_close_needs_a_message_or_a_reason(app, client):
    """POST close: 400 when message and reason are both missing or empty; referred needs a place."""
    ref = add_case(app)
    cw = token_for(client, "cw")
    url = f"/api/v1/cases/{ref}/close"
    for body in ({}, {"message": ""}, {"message": "  ", "reason": ""}, {"message": None, "reason": None},
                 {"reason": "maybe"}, {"reason": "referred"}, {"reason": "referred", "reason_text": " "}):
        response = client.post(url, json=body, headers=cw)
        assert response.status_code == 400, body
    assert _case(app, ref).status == "pending"
    closed = client.post(url, json={"reason": "referred", "reason_text": "Ældre Sagens rådgivning, tlf. 33 96 86 86"},
                         headers=cw)
    assert closed.status_code == 200 and closed.get_json()["reason"] == "referred"
    case = client.get(f"/api/v1/cases/{ref}", headers=cw).get_json()
    assert case["close_reason"] == "referred" and case["message"] is None
    assert case["close_reason_text"] == "Ældre Sagens rådgivning, tlf. [TELEFON]"  # redacted


def test_api_reopen_needs_a_reason_and_the_volunteer_sees_it(app, client):
    """POST reopen: 400 without a reason, 409 on an open case, 200 on a closed one; the volunteer's
    note then says when it was reopened and no longer shows the withdrawn answer."""
    ref = add_case(app)
    cw, vol = token_for(client, "cw"), token_for(client, "vol")
    url = f"/api/v1/cases/{ref}/reopen"
    assert client.post(url, json={"reason": "Ny oplysning"}, headers=cw).status_code == 409
    client.post(f"/api/v1/cases/{ref}/close", json={"message": "Vi ringer."}, headers=cw)
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": 3}):
        assert client.post(url, json=body, headers=cw).status_code == 400, body
    assert client.get(f"/api/v1/notes/{ref}", headers=vol).get_json()["message"] == "Vi ringer."
    reopened = client.post(url, json={"reason": "Datteren har ringet: 22 33 44 55"}, headers=cw)
    assert reopened.status_code == 200 and reopened.get_json()["status"] == "in_review"
    # The volunteer is told, as of a close: the case is unread in their list again.
    items = client.get("/api/v1/notes", headers=vol).get_json()["items"]
    assert [i["unread"] for i in items if i["id"] == ref] == [True]
    note = client.get(f"/api/v1/notes/{ref}", headers=vol).get_json()
    assert note["status"] == "in_review" and note["reopened_at"] and note["message"] is None
    case = client.get(f"/api/v1/cases/{ref}", headers=cw).get_json()
    assert case["reopen_reason"] == "Datteren har ringet: [TELEFON]" and case["closed_at"] is None
    with app.app_context():
        actions = db.session().scalars(select(AuditEvent.action).where(
            AuditEvent.target == ref)).all()
    assert "case.reopen" in actions
    # and it can be closed again
    assert client.post(f"/api/v1/cases/{ref}/close", json={"reason": "citizen_declines"},
                       headers=cw).status_code == 200


def test_a_reference_beginning_without_digits_is_found_too(app, client, auth):
    """The first letters of a reference find it even when they hold no digit (KDVB-...), and a
    word search still runs beside it."""
    ref = add_case(app, note="Hun falder i badet og kan ikke komme op igen uden hjælp.")
    with app.app_context():
        store = db.session()
        store.execute(update(Case).where(Case.public_id == ref).values(public_id="KDVB-WXYZ-MNPQ-RSTV"))
        store.commit()
    auth.login("cw")
    for q in ("kdvb", "KDVB-WX", "kdvbwxyz"):
        page = client.get("/caseworker/queue", query_string={"q": q}).get_data(as_text=True)
        assert "KDVB-WXYZ-MNPQ-RSTV" in page, q
    page = client.get("/caseworker/queue", query_string={"q": "badet"}).get_data(as_text=True)
    assert "KDVB-WXYZ-MNPQ-RSTV" in page

"""Caseworker pages: the queue and the case page."""
from __future__ import annotations

import datetime as dt
import re
from datetime import timedelta
from html import escape
from html.parser import HTMLParser

from sqlalchemy import select

from web import cases, db, messages
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


class _Tree(HTMLParser):
    """Each start tag with its attributes and the <details> it sits in (innermost last)."""

    VOID = {"input", "br", "img", "hr", "meta", "link", "source", "wbr"}

    def __init__(self, page: str):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.tags: list[tuple[str, dict, list[dict]]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attrs, [a for t, a in self.stack if t == "details"]))
        if tag not in self.VOID:
            self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def find(self, tag: str, **wanted) -> list[tuple[dict, list[dict]]]:
        return [(a, inside) for t, a, inside in self.tags if t == tag and all(
            v in a.get(k.rstrip("_"), "").split() if k.endswith("_") else a.get(k) == v
            for k, v in wanted.items())]


def test_case_page_keeps_the_decision_in_view_and_the_rest_one_line_away(app, client, auth, monkeypatch):
    """What a decision needs is outside every <details>: the marked note, each suggestion's
    citation, evidence and its confirm and reject buttons, "Tag sagen", the question and the close
    form. The explanation of a suggestion is behind <details>, open only for the first undecided
    one; the score help, handing over to a colleague, the earlier messages of a long thread, the
    repealed search results and reopening are each one closed line. No script is needed."""
    public_id = add_case(app)
    matcher = app.extensions["matcher"]
    with app.app_context():
        store = db.session()
        case = cases.get_case(store, public_id)
        first = cases.ranked(case.suggestions)[0]
        cases.decide(store, matcher, case, user(app, "cw"), first.entry_id, "confirm", None)
        for i in range(5):
            messages.post(store, case, user(app, "cw" if i % 2 == 0 else "vol"), f"Besked nummer {i}.")
        store.commit()
        ranked = cases.ranked(cases.get_case(store, public_id).suggestions)
    listed = {s.entry_id for s in ranked}
    today = dt.date.today()
    spare = [e for e in matcher.corpus.entries
             if e.kind == "rule" and e.id not in listed and e.in_force(today)][:3]
    gone = spare[0].model_copy(update={"valid_to": dt.date(2001, 1, 1)})
    monkeypatch.setattr(matcher, "search", lambda q, limit=20: [gone, *spare[1:]])
    auth.login("cw")
    page = client.get(f"/caseworker/cases/{public_id}", query_string={"q": "hjælp"}).get_data(as_text=True)
    tree = _Tree(page)

    def in_view(found):
        assert found and all(not inside for _, inside in found), found
    in_view(tree.find("mark", class_="evidence"))
    in_view(tree.find("button", value="confirm", class_="confirm"))
    assert len(tree.find("button", value="reject", class_="reject")) == len(ranked)
    in_view(tree.find("button", value="reject", class_="reject"))
    in_view(tree.find("span", class_="citation"))
    in_view(tree.find("ul", class_="evidence-list"))
    in_view(tree.find("textarea", id="question-text"))
    in_view(tree.find("form", id="close-form"))
    in_view(tree.find("button", class_="primary"))  # "Tag sagen" and "Luk sagen …"
    assert "Tag sagen" in page

    explained = tree.find("details", class_="provision")
    assert len(explained) == len(ranked)
    opened = [a["id"] for a, _ in explained if "open" in a]
    focus = next(s for s in ranked if s.entry_id != first.entry_id)  # the first one not yet decided
    assert opened == [f"provision-{focus.id}"]
    for _, inside in tree.find("p", class_="summary"):
        assert inside and "provision" in inside[-1]["class"]
    for law, inside in tree.find("details", class_="enacted"):
        assert "open" not in law and "provision" in inside[-1]["class"]

    for key in ("score-help", "handover", "thread-earlier", "repealed-results"):
        [(details, _)] = tree.find("details", id=key)
        assert "open" not in details, key
    assert "Vis 2 tidligere beskeder" in page  # five messages: the last three stay in view
    [(select_to, inside)] = tree.find("select", id="assign-to")
    assert inside[-1]["id"] == "handover"
    assert "Besked nummer 4." in page and "Besked nummer 0." in page
    earlier = page[page.index('id="thread-earlier"'):]
    earlier = earlier[:earlier.index("</details>")]
    assert "Besked nummer 1." in earlier and "Besked nummer 2." not in earlier
    results = page.split('id="repealed-results"', 1)[1].split("</details>", 1)[0]
    assert escape(gone.title) in results and "1 ophævet bestemmelse" in results
    assert f'value="{gone.id}"' not in page  # a repealed provision cannot be added
    for e in spare[1:]:
        [(button, inside)] = [(a, i) for a, i in tree.find("input", name="entry_id") if a["value"] == e.id]
        assert not inside

    with app.app_context():
        cases.close(db.session(), cases.get_case(db.session(), public_id), user(app, "cw"), "Tak.")
    closed = _Tree(client.get(f"/caseworker/cases/{public_id}").get_data(as_text=True))
    [(reopen, _)] = closed.find("details", id="reopen")
    assert "open" not in reopen
    [(_, inside)] = closed.find("textarea", id="reopen-reason")
    assert inside[-1]["id"] == "reopen"
    # A refused reopen comes back with its form open and the message in view.
    again = client.post(f"/caseworker/cases/{public_id}/reopen", data={"reason": ""})
    [(reopen, _)] = _Tree(again.get_data(as_text=True)).find("details", id="reopen")
    assert again.status_code == 400 and "open" in reopen

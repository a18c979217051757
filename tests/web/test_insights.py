"""The overview (Overblik): what it counts, that small numbers never leave it, and its exports."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from web import db
from web.cases import close, decide, top_suggestion
from web.insights import suppress
from web.models import Case, Organisation, Wish

from webhelpers import ORG_A, ORG_B, AuthActions, add_case, token_for, user

NOTES = ("Min nabo er 84 år og falder ofte i badet. Hun kan ikke selv lave mad længere.",
         "En familie fra Syrien forstår ikke brevene fra kommunen og mangler penge til huslejen.",
         "En mand med hjerneskade glemmer sine regninger og har brug for støtte i hverdagen.")


def _fill(app) -> list[str]:
    """Seven cases from organisation A (five decided, four closed with a message), three from B."""
    refs = [add_case(app, "vol", NOTES[i % 3], ("ældre", "flygtning", "andet")[i % 3])
            for i in range(7)] + [add_case(app, "other", NOTES[0]) for _ in range(3)]
    with app.app_context():
        store, matcher = db.session(), app.extensions["matcher"]
        caseworker = user(app, "cw")
        for ref in refs[:5]:
            case = store.scalar(select(Case).where(Case.public_id == ref))
            decide(store, matcher, case, caseworker, top_suggestion(case).entry_id, "confirm")
            if ref != refs[4]:
                close(store, case, caseworker, "Tak, vi ringer til borgeren.")
    return refs


@pytest.fixture
def filled(app):
    """The cases of `_fill` in the app's SQLite store."""
    return _fill(app)


@pytest.mark.usefixtures("database_url")
def test_every_backend_computes_the_same_report(store_app):
    """PostgreSQL (date_trunc, percentile_cont) and SQLite (strftime, sorted in Python) agree."""
    _fill(store_app)
    client = store_app.test_client()
    sections = _report(client)
    assert sections["received"]["figures"]["cases"] == 10
    weeks = sections["received"]["tables"]["received"]
    assert sum(r["cases"] for r in weeks if isinstance(r["cases"], int)) == 10
    assert date.fromisoformat(weeks[-1]["period"]).weekday() == 0  # weeks start on Monday
    times = {r["measure"]: r for r in sections["answers"]["tables"]["answer_times"]}
    assert times["first_decision"]["cases"] == 5
    assert 0 <= times["first_decision"]["median_hours"] <= times["first_decision"]["p90_hours"] < 1
    assert sections["engine"]["figures"]["top1_precision"] == 1.0
    assert sections["backlog"]["figures"]["open"] == 6


def _ints(value, path=""):
    """Every integer in a JSON value with its path (the threshold and filters left out)."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in ("threshold", "filters"):
                yield from _ints(item, f"{path}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _ints(item, f"{path}/{i}")


def test_suppress_publishes_small_counts_as_a_string():
    """1 to k-1 become "<k"; 0 and k upwards stay numbers; shares need k cases behind them."""
    assert [suppress.count(n, 5) for n in (0, 1, 4, 5, 12)] == [0, "<5", "<5", 5, 12]
    assert suppress.count(2, 3) == "<3"
    assert suppress.share(4, 10, 5) is None and suppress.share(5, 4, 5) is None
    assert suppress.share(5, 10, 5) == 0.5 and suppress.share(10, 10, 5) == 1.0
    # 9 of 10 would tell that one was not: the rest is a count too.
    assert suppress.share(9, 10, 5) is None and suppress.share(0, 10, 5) == 0.0
    assert suppress.measure(3.14, 4, 5) is None and suppress.measure(3.14, 5, 5) == 3.1


def test_the_api_publishes_no_count_between_one_and_four(app, client, filled):
    """Anywhere in the report, a count is 0, at least 5, or the string "<5"."""
    response = client.get("/api/v1/insights", headers=token_for(client, "lead"))
    assert response.status_code == 200
    report = response.get_json()
    assert [(p, n) for p, n in _ints(report) if 0 < n < 5] == []
    sections = report["sections"]
    assert sections["received"]["figures"]["cases"] == 10
    by_org = {r["organisation"]: r["cases"] for r in sections["received"]["tables"]["received_by_organisation"]}
    assert by_org == {ORG_A: 7, ORG_B: "<5"}
    assert sections["answers"]["figures"]["closed"] == "<5"
    # A share over fewer than five closed cases is not published.
    assert sections["answers"]["figures"]["share_with_message"] is None
    assert sections["backlog"]["figures"]["open"] == 6
    assert sections["engine"]["figures"]["cases"] == 5
    assert sections["engine"]["figures"]["top1_precision"] == 1.0


def test_a_selection_of_fewer_than_five_cases_is_not_offered(app, client, filled):
    """Organisation B has three cases: no page numbers, no CSV, a 422 from the API."""
    with app.app_context():
        org_b = db.session().scalar(select(Organisation.id).where(Organisation.name == ORG_B))
    headers = token_for(client, "lead")
    refused = client.get(f"/api/v1/insights?organisation={org_b}", headers=headers)
    assert refused.status_code == 422 and set(refused.get_json()) == {"error"}
    AuthActions(client).login("lead")
    page = client.get(f"/insights/?organisation={org_b}")
    assert page.status_code == 200 and b'id="not-offered"' in page.data
    assert client.get(f"/insights/received.csv?organisation={org_b}").status_code == 404
    # The filter does not even offer organisation B.
    overview = client.get("/insights/").get_data(as_text=True)
    assert ORG_A in overview and f'value="{org_b}"' not in overview


def test_the_threshold_is_a_setting(app, client, filled):
    """INSIGHTS_MIN_COUNT=4 publishes organisation B's three cases as "<4"."""
    app.config["INSIGHTS_MIN_COUNT"] = 4
    report = client.get("/api/v1/insights", headers=token_for(client, "lead")).get_json()
    rows = report["sections"]["received"]["tables"]["received_by_organisation"]
    assert report["threshold"] == 4 and {r["cases"] for r in rows} == {7, "<4"}


def test_every_table_exports_as_csv_with_the_same_suppression(app, client, filled):
    """Each table of the page has its CSV link, and the file holds "<5" where the page does."""
    AuthActions(client).login("lead")
    page = client.get("/insights/").get_data(as_text=True)
    report = client.get("/api/v1/insights", headers=token_for(client, "lead")).get_json()
    for section in report["sections"].values():
        for table_id in section["tables"]:
            assert f"/insights/{table_id}.csv?" in page, table_id
    response = client.get("/insights/received_by_organisation.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert {r["organisation"]: r["cases"] for r in rows} == {ORG_A: "7", ORG_B: "<5"}
    assert client.get("/insights/no_such_table.csv").status_code == 404


def test_the_page_draws_svg_with_a_table_of_the_same_numbers(app, client, filled):
    """Charts are SVG from the server (no script); each is followed by its numbers."""
    AuthActions(client).login("lead")
    page = client.get("/insights/").get_data(as_text=True)
    assert page.count("<svg") >= 3 and "<script" not in page.split("<main", 1)[1]
    assert page.count('<details class="numbers"') >= page.count('class="chart-figure"')
    assert "&lt;5" in page  # organisation B's count, in the table


@pytest.mark.parametrize("query,status", [
    ("from=2026-13-01", 400), ("from=2026-02-01&to=2026-01-01", 400), ("area=mars", 400),
    ("organisation=abc", 400), ("from=2000-01-01&to=2026-01-01", 400), ("colour=red", 400),
    ("from=", 400), ("area=%20", 400),
    ("area=aeldre&from=2026-01-01", 200),
])
def test_bad_filters_are_refused_with_a_json_message(client, filled, query, status):
    """Malformed filters answer 400 with {error}, never a 500."""
    response = client.get(f"/api/v1/insights?{query}", headers=token_for(client, "lead"))
    assert response.status_code in (status, 422)
    if response.status_code >= 400:
        assert set(response.get_json()) == {"error"}


def test_the_page_shows_a_form_error_for_bad_filters(client):
    """A malformed date is a clear error on the page, with status 400."""
    AuthActions(client).login("lead")
    response = client.get("/insights/?from=morgen")
    assert response.status_code == 400 and b'id="filter-error"' in response.data


def test_wishes_are_counted_by_kind_and_organisation(app, client, filled):
    """The organisation coordinator's wishes (redacted) and the volunteer coordinator's answer
    show up on the overview; a volunteer does not submit the organisation's wishes."""
    AuthActions(client).login("vol")
    assert client.post("/wishes/", data={"kind": "lokaler", "text": "Et lokale om tirsdagen."}).status_code == 403
    AuthActions(client).logout()
    AuthActions(client).login("coord")
    for kind in ("lokaler",) * 5 + ("økonomi",):
        wish = {"kind": kind, "text": "Et lokale om tirsdagen, ring 22 33 44 55."}
        assert client.post("/wishes/", data=wish).status_code == 302
    with app.app_context():
        store = db.session()
        assert all("22 33 44 55" not in w.text for w in store.scalars(select(Wish)))
        user(app, "cw").answers_wishes = True
        store.commit()
        first = store.scalar(select(Wish.id).order_by(Wish.id))
    AuthActions(client).logout()
    AuthActions(client).login("cw")
    assert client.post(f"/wishes/{first}/answer", data={"outcome": "granted"}).status_code == 302
    report = client.get("/api/v1/insights", headers=token_for(client, "lead")).get_json()
    kinds = {r["kind"]: r for r in report["sections"]["wishes"]["tables"]["wishes_by_kind"]}
    assert kinds["lokaler"]["submitted"] == 5 and kinds["lokaler"]["answered"] == "<5"
    assert kinds["økonomi"]["submitted"] == "<5" and kinds["viden"]["submitted"] == 0
    assert report["sections"]["wishes"]["figures"]["submitted"] == 6


def test_only_the_volunteer_coordinator_answers_wishes(app, client):
    """A caseworker without answers_wishes gets 403 on the register and on answering."""
    AuthActions(client).login("cw")
    assert client.get("/wishes/").status_code == 403
    assert client.post("/wishes/1/answer", data={"outcome": "granted"}).status_code == 403


def _report(client, **args):
    query = "&".join(f"{k}={v}" for k, v in args.items())
    response = client.get(f"/api/v1/insights?{query}", headers=token_for(client, "lead"))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["sections"]


def test_questions_asked_and_answered_and_the_first_answer(app, client, filled):
    """Five questions, three answered: "<5" answered and waiting; a question is a first answer."""
    from web.messages import post

    with app.app_context():
        store = db.session()
        for ref in filled[5:]:
            case = store.scalar(select(Case).where(Case.public_id == ref))
            post(store, case, user(app, "cw"), "Bor borgeren alene?")
        for ref, volunteer in zip(filled[5:8], ("vol", "vol", "other"), strict=True):
            case = store.scalar(select(Case).where(Case.public_id == ref))
            post(store, case, user(app, volunteer), "Ja, hun bor alene.")
        asked = store.scalars(select(Case).where(Case.public_id.in_(filled[5:]))).all()
        assert all(c.first_answer_at is not None and c.first_decision_at is None for c in asked)
    sections = _report(client)
    questions = sections["questions"]["figures"]
    assert questions["asked"] == 5 and questions["cases_with_question"] == 5
    assert questions["answered"] == "<5" and questions["waiting"] == "<5"
    assert questions["share_answered"] is None  # 3 of 5 would tell the 3
    times = {r["measure"]: r for r in sections["answers"]["tables"]["answer_times"]}
    # Ten cases have a first answer (five decisions, five questions), five a decision.
    assert times["first_answer"]["cases"] == 10 and times["first_decision"]["cases"] == 5
    assert times["first_answer"]["median_hours"] is not None
    assert times["first_answer"]["p90_hours"] >= times["first_answer"]["median_hours"]
    assert times["closing"]["cases"] == "<5" and times["closing"]["median_hours"] is None


def test_cases_past_their_deadline(app, client, filled):
    """Closed after due_at counts as late; an open case past due_at now counts, unless it waits
    and its deadline stands still (DEADLINE_PAUSES_WHILE_WAITING)."""
    from datetime import timedelta

    from web.models import utcnow

    app.config["INSIGHTS_MIN_COUNT"] = 3
    now = utcnow()
    with app.app_context():
        store = db.session()
        by_ref = {c.public_id: c for c in store.scalars(select(Case))}
        for ref in filled[4:6]:
            close(store, by_ref[ref], user(app, "cw"), "Tak, vi ringer til borgeren.")
        for ref in filled[:3]:  # closed after their deadline
            by_ref[ref].due_at = by_ref[ref].created_at - timedelta(seconds=1)
        for ref in filled[3:6]:  # closed in time
            by_ref[ref].due_at = now + timedelta(days=30)
        for ref in filled[6:9]:  # open, past the deadline
            by_ref[ref].due_at = now - timedelta(days=1)
        # Waiting since before its deadline passed: the deadline stands still.
        waiting = by_ref[filled[9]]
        waiting.status, waiting.waiting_since = "waiting", now - timedelta(days=10)
        waiting.due_at = now - timedelta(days=1)
        store.commit()
    figures = _report(client)["deadlines"]["figures"]
    assert figures == {"open_past_deadline": 3, "closed_late": 3, "share_closed_on_time": 0.5}
    app.config["DEADLINE_PAUSES_WHILE_WAITING"] = False
    assert _report(client)["deadlines"]["figures"]["open_past_deadline"] == 4


def test_provisions_and_precision_per_engine_version(app, client, filled):
    """Per provision: suggested, confirmed, rejected and added by hand, as the decisions say;
    top-1 precision per engine version."""
    from collections import Counter

    app.config["INSIGHTS_MIN_COUNT"] = 2
    with app.app_context():
        store, matcher = db.session(), app.extensions["matcher"]
        cases = {c.public_id: c for c in store.scalars(select(Case))}
        for ref in filled[5:]:  # the top suggestion is wrong on five more cases
            decide(store, matcher, cases[ref], user(app, "cw"),
                   top_suggestion(cases[ref]).entry_id, "reject")
        suggested = {s.entry_id for c in cases.values() for s in c.suggestions}
        missed = next(e.id for e in matcher.corpus.rules
                      if e.id not in suggested and e.in_force(date.today()))
        decide(store, matcher, cases[filled[9]], user(app, "cw"), missed, "confirm")
        # The first five cases were matched by an older engine.
        for ref in filled[:5]:
            cases[ref].engine_version = "v-old"
            for s in cases[ref].suggestions:
                s.engine_version = "v-old"
        store.commit()
        expected = {key: Counter() for key in ("suggested", "confirmed", "rejected", "added")}
        for c in store.scalars(select(Case)):
            latest = {}
            for d in c.decisions:
                latest[d.suggestion_id] = d.decision
            for s in c.suggestions:
                engine_made = s.origin == "engine"
                expected["suggested"][s.entry_id] += engine_made
                expected["confirmed"][s.entry_id] += engine_made and latest.get(s.id) == "confirm"
                expected["rejected"][s.entry_id] += engine_made and latest.get(s.id) == "reject"
                expected["added"][s.entry_id] += not engine_made and latest.get(s.id) == "confirm"
        current = matcher.version
    engine = _report(client)["engine"]
    rows = engine["tables"]["provisions"] + engine["tables"]["added_by_hand"]
    assert rows and any(r["entry_id"] == missed for r in engine["tables"]["added_by_hand"])
    for row in rows:
        for key in expected:
            assert row[key] == suppress.count(expected[key][row["entry_id"]], 2), (row, key)
    versions = {r["engine_version"]: r for r in engine["tables"]["precision_by_version"]}
    assert versions["v-old"]["cases"] == 5 and versions["v-old"]["top1_precision"] == 1.0
    assert versions[current]["cases"] == 5 and versions[current]["top1_precision"] == 0.0
    assert engine["figures"]["cases"] == 10 and engine["figures"]["top1_precision"] == 0.5


def test_the_kept_columns_follow_a_changed_decision(app):
    """Confirm, then reject the same suggestion: the latest verdict counts, on the suggestion
    and in the case's tally; the first decision and first answer keep their time."""
    ref = add_case(app)
    with app.app_context():
        store, matcher = db.session(), app.extensions["matcher"]
        case = store.scalar(select(Case).where(Case.public_id == ref))
        best = top_suggestion(case)
        assert case.top5_shown == min(5, len(case.suggestions)) and case.engine_version == matcher.version
        decide(store, matcher, case, user(app, "cw"), best.entry_id, "confirm")
        case = store.scalar(select(Case).where(Case.public_id == ref))
        first = case.first_decision_at
        assert case.top1_confirmed and case.top5_confirmed == 1 and first == case.first_answer_at
        decide(store, matcher, case, user(app, "cw"), best.entry_id, "reject")
        case = store.scalar(select(Case).where(Case.public_id == ref))
        assert not case.top1_confirmed and case.top5_confirmed == 0
        assert top_suggestion(case).decision == "reject" and case.first_decision_at == first

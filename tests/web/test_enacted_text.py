"""The law's own words on the caseworker's case page, beside the plain summary."""
from __future__ import annotations

import datetime as dt
import re
from html import escape

from matcher.acts import Enacted

from web import cases, db

from webhelpers import add_case, user


def _suggestions(app, public_id):
    with app.app_context():
        return [(s.id, s.entry_id, s.kind) for s in cases.get_case(db.session(), public_id).suggestions]


def test_case_page_shows_each_provision_as_enacted_next_to_its_summary(app, client, auth, matcher):
    """Every suggested rule whose act is on file shows its section's text, expandable, with the ELI link."""
    public_id = add_case(app)
    auth.login("cw")
    page = client.get(f"/caseworker/cases/{public_id}").get_data(as_text=True)
    shown = 0
    for ref, entry_id, kind in _suggestions(app, public_id):
        entry = matcher.corpus.get(entry_id)
        assert escape(entry.summary) in page  # the plain summary stays
        law = matcher.enacted(entry_id)
        if kind == "service" or law is None:
            assert f'id="enacted-{ref}"' not in page
            continue
        block = page[page.index(f'id="enacted-{ref}"'):]
        block = block[:block.index('<p class="source">')]
        assert f"{law.citation}" in block and law.act in block
        if law.repealed:
            assert "ophævet" in block
        else:
            assert escape(law.stk[0]) in block, entry_id
        assert f'href="{law.eli}"' in page
        shown += 1
    assert shown >= 1
    # expandable without script (the CSP allows no inline script)
    assert '<details class="enacted"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and " onclick=" not in page


def test_the_relevant_stk_comes_first_and_the_whole_section_on_request(app, client, auth, matcher, monkeypatch):
    """With key terms in stk. 2, stk. 2 is shown, and the whole section behind a second <details>."""
    public_id = add_case(app)
    ref, entry_id, _ = next(s for s in _suggestions(app, public_id) if s[2] == "rule")
    fake = Enacted(citation="SEL § 83", act="LBK nr. 1129 af 2025", date=dt.date(2025, 9, 22),
                   eli="https://www.retsinformation.dk/eli/lta/2025/1129", label="§ 83",
                   stk=("Første stykke om pleje.", "Andet stykke om praktisk hjælp.", "Tredje stykke."),
                   relevant=(2,), repealed=False)
    monkeypatch.setattr(matcher, "enacted", lambda e: fake if e == entry_id else None)
    auth.login("cw")
    page = client.get(f"/caseworker/cases/{public_id}").get_data(as_text=True)
    block = page[page.index(f'id="enacted-{ref}"'):]
    block = block[:block.index('<p class="source">')]
    assert "Lovens ordlyd: SEL § 83, stk. 2 (LBK nr. 1129 af 2025)" in block
    first, whole = block.split('<details class="enacted-whole">')
    assert "Stk.</span>" not in first and "Stk. 2.</span> Andet stykke om praktisk hjælp." in first
    assert "Første stykke" not in first
    assert "Hele § 83 (3 stk.)" in whole and "§ 83.</span> Første stykke om pleje." in whole
    assert "Stk. 3.</span> Tredje stykke." in whole


def test_the_volunteer_sees_the_plain_outcome_not_the_law_text(app, client, auth, matcher):
    """The volunteer's outcome names the confirmed provision in plain words; the act's text is for caseworkers."""
    public_id = add_case(app)
    ref, entry_id, _ = next(s for s in _suggestions(app, public_id)
                            if s[2] == "rule" and matcher.enacted(s[1]) is not None)
    with app.app_context():
        store = db.session()
        case = cases.get_case(store, public_id)
        cases.decide(store, matcher, case, user(app, "cw"), entry_id, "confirm", None)
        cases.close(store, case, user(app, "cw"), "Se reglen.")
    auth.login("vol")
    page = client.get(f"/volunteer/notes/{public_id}").get_data(as_text=True)
    assert escape(matcher.corpus.get(entry_id).title) in page
    law = matcher.enacted(entry_id)
    assert "Lovens ordlyd" not in page and escape(law.stk[0]) not in page

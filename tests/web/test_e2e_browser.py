"""End to end in Chromium: submit a note, confirm and close it, read the outcome; ask and answer
with the volunteer told by the unread marker and by a mail to a real SMTP server."""
from __future__ import annotations

from pathlib import Path

import pytest

from web import db as web_db

from webhelpers import (PASSWORD, add_case, base_config, build_app, served, smtp_config, smtp_server,
                        user)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
NOTE = ("Jeg besøger en dame på 86 år, som bor alene. Hun er faldet to gange på "
        "badeværelset og tør ikke gå i bad alene. Hun kan ikke længere lave varm mad selv. "
        "Hendes datter har telefon 22 33 44 55.")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="no browser: /usr/bin/chromium is missing "
                              "(apt-get install chromium chromium-driver)"),
]


@pytest.fixture
def live_app(tmp_path, matcher):
    """Serve a CSRF-protected app with waitress on a free local port, in a thread; yields its
    address and the app (to load data into it)."""
    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'e2e-app.db'}", matcher)
    config.update(WTF_CSRF_ENABLED=True, TESTING=False)
    app = build_app(config)
    with served(app) as server:
        yield f"http://127.0.0.1:{server.effective_port}", app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def live_server(live_app):
    """The address of a served app (live_app without the app)."""
    return live_app[0]


@pytest.fixture
def live_server_with_mail(tmp_path, matcher):
    """As live_app, with notification e-mails going to an SMTP server the test started."""
    with smtp_server() as (port, box):
        config = base_config(tmp_path, f"sqlite:///{tmp_path / 'e2e-mail.db'}", matcher)
        config.update(WTF_CSRF_ENABLED=True, TESTING=False, **smtp_config(port))
        app = build_app(config)
        with app.app_context():
            user(app, "vol").email = "frivillig@example.dk"
            web_db.session().commit()
        with served(app) as server:
            base = f"http://127.0.0.1:{server.effective_port}"
            app.config["PUBLIC_URL"] = base  # the mail's link leads back to this server
            yield base, app, box
        app.extensions["db_engine"].dispose()


@pytest.fixture
def browser():
    """Debian's Chromium, headless, driven by Playwright (no downloaded browsers)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open_page(browser, base_url: str, problems: list):
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    # Any script error or CSP violation shows up as a console error.
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return page


def _login(page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button.primary")


def test_volunteer_to_caseworker_and_back(live_server, browser):
    """Submit, confirm with the keyboard, close, and read the outcome as the volunteer."""
    problems: list[str] = []
    volunteer = _open_page(browser, live_server, problems)
    _login(volunteer, "vol")
    volunteer.click("text=Ny henvendelse")
    volunteer.fill("#text", NOTE)
    volunteer.check("label:has-text('Ældre')")
    volunteer.check("#consent")
    volunteer.fill("#wishes", "Vi vil gerne have et lokale til besøgsvennerne.")
    volunteer.click("button:has-text('Send til kommunen')")
    volunteer.wait_for_selector("#case-reference")
    reference = volunteer.inner_text("#case-reference").strip()
    assert volunteer.inner_text("h1").startswith("Tak")

    caseworker = _open_page(browser, live_server, problems)
    _login(caseworker, "cw")
    caseworker.click(f"text={reference}")
    caseworker.wait_for_load_state("load")  # the deferred shortcut script has run
    # Opening a case does not take it; "Tag sagen" does, and it is then under "Mine sager".
    assert "Ingen har taget sagen" in caseworker.inner_text("#assignment")
    caseworker.click("button:has-text('Tag sagen')")
    caseworker.wait_for_selector("text=Du har taget sagen")
    caseworker.goto("/caseworker/queue?assigned=me")
    caseworker.click(f"text={reference}")
    caseworker.wait_for_load_state("load")
    assert "[TELEFON]" in caseworker.inner_text("#note-text")
    assert "et lokale til besøgsvennerne" in caseworker.inner_text(".wishes-box")
    first = caseworker.locator(".suggestion").first
    citation = first.locator(".citation").inner_text().strip()
    title = first.locator("h3").inner_text().strip()[len(citation):].strip()
    caseworker.keyboard.press("j")
    assert "selected" in (first.get_attribute("class") or "")
    caseworker.keyboard.press("c")
    caseworker.wait_for_selector(".suggestion.decided-confirm")
    caseworker.fill("#message", "Visitationen kontakter hende om bad og madservice.")
    # Closing asks first, with what is still undecided; "Fortryd" leaves the case open.
    caseworker.click("#close-button")
    dialog = caseworker.locator("#close-dialog")
    dialog.wait_for(state="visible")
    assert "forslag afgjort" in dialog.inner_text()
    caseworker.click("#cancel-close")
    dialog.wait_for(state="hidden")
    caseworker.click("#close-button")
    caseworker.click("#confirm-close")
    caseworker.wait_for_selector("text=Sagen er lukket")

    volunteer.goto("/volunteer/notes")
    volunteer.click(f"text={reference}")
    assert volunteer.inner_text("#case-status").strip() == "Afsluttet"
    assert "Visitationen kontakter hende" in volunteer.inner_text("#case-message")
    outcome = volunteer.inner_text(".outcome-list")
    assert citation in outcome and title in outcome

    # The caseworker reopens it with a reason; the volunteer sees it reopened, the answer withdrawn.
    caseworker.goto(f"/caseworker/cases/{reference}")
    # Reopening is rare: its form waits behind one closed line.
    assert not caseworker.locator("#reopen-reason").is_visible()
    caseworker.click("#reopen > summary")
    caseworker.fill("#reopen-reason", "Datteren har ringet med nye oplysninger.")
    caseworker.click("button:has-text('Genåbn sagen')")
    caseworker.wait_for_selector("text=Sagen er genåbnet")
    assert caseworker.locator("#close-form").count() == 1
    volunteer.reload()
    assert "genåbnede sagen" in volunteer.inner_text("#case-reopened")
    assert volunteer.locator("#case-message").count() == 0
    assert problems == []


def test_admin_creates_a_user_who_sets_a_password_from_the_link(live_server, browser):
    """The admin passes on a link; the new caseworker sets a password with it and logs in."""
    problems: list[str] = []
    admin = _open_page(browser, live_server, problems)
    _login(admin, "adm")
    admin.fill("#username", "ny.sagsbehandler")
    admin.select_option("#role", "caseworker")
    admin.click("button:has-text('Opret bruger')")
    link = admin.inner_text("#password-link").strip()
    assert link.startswith(f"{live_server}/password/")

    newcomer = _open_page(browser, live_server, problems)
    newcomer.goto(link)
    assert "ny.sagsbehandler" in newcomer.inner_text("main")
    newcomer.fill("#password", "password1234")
    newcomer.fill("#confirm", "password1234")
    newcomer.click("button.primary")
    assert "for let at gætte" in newcomer.inner_text(".alert")
    # The refusal is a 400, which Chromium reports on the console; nothing else may be there.
    assert len(problems) == 1 and "status of 400" in problems.pop()
    newcomer.fill("#password", "syv-blå-cykler-ved-havnen")
    newcomer.fill("#confirm", "syv-blå-cykler-ved-havnen")
    newcomer.click("button.primary")
    newcomer.wait_for_selector("text=Din adgangskode er gemt")
    newcomer.fill("#username", "ny.sagsbehandler")
    newcomer.fill("#password", "syv-blå-cykler-ved-havnen")
    newcomer.click("button.primary")
    newcomer.wait_for_selector("h1")
    assert newcomer.url.endswith("/caseworker/queue")
    assert problems == []


def test_ask_and_answer_with_the_volunteer_told_by_mail_and_marker(live_server_with_mail, browser):
    """The caseworker asks; the volunteer gets a mail and a marker, answers in Arabic; the
    caseworker reads the answer, shown right to left."""
    base, app, box = live_server_with_mail
    reference = add_case(app)
    problems: list[str] = []
    caseworker = _open_page(browser, base, problems)
    _login(caseworker, "cw")
    caseworker.goto(f"/caseworker/cases/{reference}")
    caseworker.fill("#question-text", "Bor hun alene? Må vi ringe til hende?")
    caseworker.click("button:has-text('Send spørgsmål')")
    caseworker.wait_for_selector("text=Spørgsmålet er sendt")
    assert caseworker.inner_text("#case-status").strip() == "Venter på svar"
    assert "sat på pause" in caseworker.inner_text("#waiting-notice")

    [(to, mail)] = box.wait_for(1)
    body = mail.get_content()
    assert to == ["frivillig@example.dk"] and "Bor hun alene" not in body
    link = next(line for line in body.splitlines() if line.startswith(base))

    volunteer = _open_page(browser, base, problems)
    _login(volunteer, "vol")
    row = volunteer.locator(".case-row", has_text=reference)
    assert row.locator(".badge.news").inner_text().strip() == "Nyt"
    volunteer.goto(link)
    assert "Bor hun alene?" in volunteer.inner_text("#thread")
    answer = "نعم، تعيش وحدها. Ja, hun bor alene."
    volunteer.fill("#message-text", answer)
    volunteer.click("button:has-text('Send svar')")
    volunteer.wait_for_selector("text=Dit svar er sendt")
    volunteer.goto("/volunteer/notes")
    assert volunteer.locator(".case-row", has_text=reference).locator(".badge.news").count() == 0

    caseworker.reload()
    message = caseworker.locator(".thread-message.kind-answer .thread-text")
    assert message.inner_text().strip() == answer
    assert message.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert caseworker.inner_text("#case-status").strip() == "Afventer"
    assert problems == []


def test_the_note_form_warns_at_the_limit_instead_of_cutting(live_server, browser):
    """Typing past 5,000 characters keeps the text and says how much is over."""
    problems: list[str] = []
    volunteer = _open_page(browser, live_server, problems)
    _login(volunteer, "vol")
    volunteer.goto("/volunteer/notes/new")
    volunteer.fill("#text", "a" * 5000)
    assert "grænsen er nået" in volunteer.inner_text("#text-count")
    volunteer.fill("#text", "a" * 5003)
    assert volunteer.input_value("#text") == "a" * 5003
    counter = volunteer.locator("#text-count")
    assert "5.003" in counter.inner_text() and "højst 5.000" in counter.inner_text()
    assert "warning" in (counter.get_attribute("class") or "")
    assert problems == []


def test_a_leader_opens_the_overview_on_a_phone_and_a_desktop(live_app, browser, tmp_path):
    """The demo history drawn as SVG with its tables, no script error or CSP violation, nothing
    wider than a 390 px phone; the leader's menu leads nowhere else."""
    from web import demo_history

    base, app = live_app
    with app.app_context():
        store = web_db.session()
        volunteers = {name: user(app, "vol" if i % 2 else "other")
                      for i, (_, name, _) in enumerate(demo_history.TEMPLATES)}
        demo_history.load_history(store, app.extensions["matcher"], user(app, "cw"), volunteers)
    problems: list[str] = []
    phone = _open_page(browser, base, problems)
    _login(phone, "lead")
    phone.wait_for_url("**/insights/")
    assert phone.locator("#demo-banner").is_visible()
    assert phone.locator("svg.chart").count() >= 3
    assert phone.locator("details.numbers").count() >= phone.locator("figure.chart-figure").count()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone.locator("nav a[href^='/caseworker'], nav a[href^='/admin']").count() == 0
    phone.screenshot(path=str(tmp_path / "overview-phone.png"), full_page=True)
    phone.select_option("#area", "flygtning")
    phone.click("form.filters button[type=submit]")
    assert "area=flygtning" in phone.url and phone.locator("svg.chart").count() >= 3
    desktop = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900}).new_page()
    desktop.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    _login(desktop, "lead")
    desktop.wait_for_url("**/insights/")
    desktop.screenshot(path=str(tmp_path / "overview-desktop.png"), full_page=True)
    assert problems == []


def test_the_caseworkers_question_and_answer_warn_at_the_limit_too(live_server_with_mail, browser):
    """The caseworker's question and closing message are not cut at 5,000 characters either."""
    base, app, _box = live_server_with_mail
    reference = add_case(app)
    problems: list[str] = []
    caseworker = _open_page(browser, base, problems)
    _login(caseworker, "cw")
    caseworker.goto(f"/caseworker/cases/{reference}")
    caseworker.wait_for_load_state("load")
    for field, counter in (("#question-text", "#question-count"), ("#message", "#close-message-count")):
        caseworker.fill(field, "a" * 5003)
        assert caseworker.input_value(field) == "a" * 5003
        words = caseworker.inner_text(counter)
        assert "5.003" in words and "højst 5.000" in words
    assert problems == []


def test_the_case_page_keeps_what_a_decision_needs_in_view(live_app, browser):
    """On a phone and a desktop: the evidence and every suggestion's confirm and reject are in
    view without opening anything; only the suggestion in focus has its explanation open, and j
    moves it along; nothing is wider than the phone."""
    base, app = live_app
    reference = add_case(app)
    problems: list[str] = []
    for width, height in ((390, 844), (1280, 900)):
        page = browser.new_context(base_url=base, viewport={"width": width, "height": height}).new_page()
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        _login(page, "cw")
        page.goto(f"/caseworker/cases/{reference}")
        page.wait_for_load_state("load")
        cards = page.locator(".suggestion")
        assert cards.count() >= 3
        assert page.locator("mark.evidence").first.is_visible()
        for i in range(cards.count()):
            card = cards.nth(i)
            assert card.locator("h3 .citation").is_visible()
            assert card.locator("button[value=confirm]").is_visible()
            assert card.locator("button[value=reject]").is_visible()
            if card.locator(".evidence-list").count():
                assert card.locator(".evidence-list q").first.is_visible()
        explanations = page.locator(".suggestion details.provision")
        assert explanations.count() >= 3
        opened = page.locator(".suggestion details.provision[open]")
        assert opened.count() == 1 and cards.first.locator("details.provision[open]").count() == 1
        assert cards.first.locator(".provision .summary").is_visible()
        assert not cards.nth(1).locator(".provision .summary").is_visible()
        assert page.locator("button:has-text('Tag sagen')").is_visible()
        assert page.locator("#close-button").is_visible() and page.locator("#question-text").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if width > 400:  # a phone has no keyboard
            page.keyboard.press("j")
            page.keyboard.press("j")
            assert "selected" in (cards.nth(1).get_attribute("class") or "")
            assert cards.nth(1).locator(".provision .summary").is_visible()
            assert not cards.first.locator(".provision .summary").is_visible()
            assert page.locator(".suggestion details.provision[open]").count() == 1
        page.context.close()
    assert problems == []

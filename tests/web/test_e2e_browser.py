"""End to end in Chromium: submit a note, confirm and close it, read the outcome."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from webhelpers import PASSWORD, base_config, build_app

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
def live_server(tmp_path, matcher):
    """Serve a CSRF-protected app with waitress on a free local port, in a thread."""
    import waitress

    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'e2e.db'}", matcher)
    config.update(WTF_CSRF_ENABLED=True, TESTING=False)
    app = build_app(config)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=10)
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
    caseworker.click("button:has-text('Luk sagen og send svar')")
    caseworker.wait_for_selector("text=Sagen er lukket")

    volunteer.goto("/volunteer/notes")
    volunteer.click(f"text={reference}")
    assert volunteer.inner_text("#case-status").strip() == "Afsluttet"
    assert "Visitationen kontakter hende" in volunteer.inner_text("#case-message")
    outcome = volunteer.inner_text(".outcome-list")
    assert citation in outcome and title in outcome
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

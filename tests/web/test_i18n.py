"""Languages: Danish first, English as a setting or a per-session choice."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

import web

from webhelpers import base_config, build_app

WEB = Path(web.__file__).parent
PO = WEB / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def test_pages_are_danish_by_default(client):
    """Without a setting the pages are Danish."""
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="da">' in page and "Brugernavn" in page and ">English</button>" in page


def test_english_as_a_setting(tmp_path, matcher):
    """BABEL_DEFAULT_LOCALE=en serves English."""
    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'en.db'}", matcher)
    app = build_app({**config, "BABEL_DEFAULT_LOCALE": "en"})
    page = app.test_client().get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Username" in page and "Brugernavn" not in page
    app.extensions["db_engine"].dispose()


def test_the_language_switch_lasts_through_login(client, auth):
    """A volunteer can switch to English; the choice survives logging in."""
    response = client.post("/language", data={"lang": "en", "next": "/login"})
    assert response.headers["Location"] == "/login"
    assert "Username" in client.get("/login").get_data(as_text=True)
    auth.login("vol")
    page = client.get("/volunteer/notes/new").get_data(as_text=True)
    assert "The citizen's situation" in page and ">Dansk</button>" in page
    client.post("/language", data={"lang": "da"})
    assert "Borgerens situation" in client.get("/volunteer/notes/new").get_data(as_text=True)
    client.post("/language", data={"lang": "xx"})
    assert "Borgerens situation" in client.get("/volunteer/notes/new").get_data(as_text=True)


@pytest.mark.parametrize("lang,needle", [("da", "Borgeren skal"), ("en", "Without consent")])
def test_form_errors_follow_the_language(client, auth, lang, needle):
    """Validation messages come in the page's language."""
    client.post("/language", data={"lang": lang})
    auth.login("vol")
    page = client.post("/volunteer/notes/new", data={"text": "kort", "area": "andet"})
    text = page.get_data(as_text=True)
    assert 'id="consent-errors"' in text and 'id="text-errors"' in text
    assert needle in text


def _template_messages() -> set:
    with open(WEB / "babel.cfg") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    return {message for _file, _line, message, _comments, _context
            in extract_from_dir(str(WEB), method_map, options_map)}


def test_every_text_has_an_english_translation():
    """Each message in the templates and code is translated in the English catalogue."""
    with open(PO, "rb") as handle:
        catalog = read_po(handle)
    translated = {m.id: m.string for m in catalog if m.id}
    for message in _template_messages():
        assert message in translated, f"not in messages.po: {message!r}"
        string = translated[message]
        assert all(string) if isinstance(string, tuple) else string, f"untranslated: {message!r}"


def _messages(catalog) -> dict:
    def frozen(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value
    return {frozen(m.id): frozen(m.string) for m in catalog if m.id}


def test_compiled_catalogue_matches_the_po_file():
    """messages.mo is compiled from the current messages.po (run pybabel compile)."""
    with open(PO, "rb") as handle:
        catalog = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    expected = _messages(read_mo(buffer))
    with open(MO, "rb") as handle:
        actual = _messages(read_mo(handle))
    assert actual == expected

"""Error pages for the browser and JSON {error} bodies for the API; input no view can use is refused here."""
from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from flask import Flask, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException

API_PREFIXES = ("/api/", "/healthz", "/openapi.json")
#: NUL (PostgreSQL cannot store it in text) and lone surrogates (no encoding can store them).
UNUSABLE = re.compile("[\x00\ud800-\udfff]")
#: Deeper JSON than this is refused before anything reads it (the API's bodies are flat).
JSON_MAX_DEPTH = 32


class BadInput(BadRequest):
    """A request whose content cannot be stored or read: 400, with `message` for the API and
    `reason` naming the explanation on the page (templates/errors/error.html)."""

    def __init__(self, message: str, reason: str = "bad_input"):
        super().__init__(description=message)
        self.message = message
        self.reason = reason


class CheckedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing bodies nested too deeply or with strings no database can store."""

    def loads(self, s, **kwargs):
        """Parse JSON; raise BadInput (400) for deep nesting, NUL bytes and lone surrogates."""
        if isinstance(s, (bytes, bytearray)):
            try:
                s = s.decode("utf-8")
            except UnicodeDecodeError:
                raise BadInput("the body must be UTF-8") from None
        if _depth_exceeds(s, JSON_MAX_DEPTH):
            raise BadInput(f"the JSON body is nested deeper than {JSON_MAX_DEPTH} levels")
        data = super().loads(s, **kwargs)
        if _unusable(data):
            raise BadInput("strings must not contain NUL characters (U+0000) or lone surrogates (U+D800 to U+DFFF)")
        return data


def _depth_exceeds(s: str, limit: int) -> bool:
    """Say whether brackets outside strings nest deeper than `limit` (one pass, no recursion)."""
    if s.count("[") + s.count("{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for ch in s:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def _unusable(data) -> bool:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if UNUSABLE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


def init_app(app: Flask) -> None:
    """Register the error handlers, the checked JSON parser and the check of every request's input."""
    app.json = CheckedJSONProvider(app)
    # First of all request hooks (CSRF, rate limits): such a request changes and counts nothing.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unusable_input)
    app.register_error_handler(CSRFError, handle_csrf)
    # Unexpected exceptions reach this too, as a 500, after Flask has logged them.
    app.register_error_handler(HTTPException, handle_http)


def refuse_unusable_input() -> None:
    """Refuse a query string that is not percent-encoded UTF-8 and form fields with NUL bytes.

    Bodies in JSON are checked by CheckedJSONProvider when a view reads them.
    """
    raw = request.environ.get("QUERY_STRING", "")
    if not raw.isascii():
        # The error page links back to this address (request.full_path), which cannot be decoded.
        request.query_string = b""
        raise BadInput("the query string must be percent-encoded (RFC 3986), e.g. %C3%A6 for æ")
    try:
        unquote_to_bytes(raw.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("the query string must be UTF-8 once percent-decoded") from None
    if _unusable(list(request.args.items(multi=True))):
        raise BadInput("the query string must not contain NUL characters (%00)")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") and _unusable(
            list(request.form.items(multi=True))):
        raise BadInput("form fields must not contain NUL characters")


def wants_json() -> bool:
    """Say whether the request is for the API, which answers errors in JSON."""
    return request.path.startswith(API_PREFIXES)


def handle_csrf(error: CSRFError):
    """Explain an expired or missing form token in plain words."""
    return render_template("errors/error.html", code=400, reason="csrf"), 400


def json_error(status: int, message: str):
    """A JSON error response; a 401 says how to authenticate (a bearer token)."""
    response = jsonify(error=message)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def handle_http(error: HTTPException):
    """Render an HTTP error as JSON for the API and as a page for people."""
    if error.code is None or error.code < 400:
        return error
    bad_input = isinstance(error, BadInput)
    if wants_json():
        return json_error(error.code, error.message if bad_input else error.name.lower())
    return render_template("errors/error.html", code=error.code,
                           reason=error.reason if bad_input else None), error.code

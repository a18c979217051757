"""Error pages for the browser and JSON {error} bodies for the API."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

API_PREFIXES = ("/api/", "/healthz", "/openapi.json")


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(CSRFError, handle_csrf)
    # Unexpected exceptions reach this too, as a 500, after Flask has logged them.
    app.register_error_handler(HTTPException, handle_http)


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
    if wants_json():
        return json_error(error.code, error.name.lower())
    return render_template("errors/error.html", code=error.code, reason=None), error.code


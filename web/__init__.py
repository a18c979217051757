"""Brobygger's web application: volunteer form, caseworker queue, admin and JSON API."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (accounts, admin, api, auth, caseworker, db, engine, errors, i18n, security, sessions,
               throttle, volunteer)
from . import deadlines
from .config import Config, ensure_secret_key


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, or from `config` over the defaults (tests)."""
    app = Flask(__name__)
    # Tests pass their own mapping over the documented defaults, never the environment.
    app.config.from_object(Config(environ=None if config is None else {}))
    app.config.from_mapping(config or {})
    days = app.config["CASE_DEADLINE_DAYS"]
    app.config["CASE_DEADLINES"] = days if isinstance(days, dict) else deadlines.parse_days(days)
    # Flask's default is None (unlimited); a note is at most 5,000 characters.
    app.config["MAX_CONTENT_LENGTH"] = app.config.get("MAX_CONTENT_LENGTH") or 256 * 1024
    ensure_secret_key(app.config)
    logging.getLogger("web").setLevel(app.config["LOG_LEVEL"])
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    db.init_app(app)
    accounts.init_app(app)
    engine.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    sessions.init_app(app)
    throttle.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    for module in (auth, volunteer, caseworker, admin, api):
        app.register_blueprint(module.bp)
    # The API authenticates with bearer tokens, not cookies, so CSRF cannot reach it.
    security.csrf.exempt(api.bp)
    return app

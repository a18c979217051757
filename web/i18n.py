"""Languages: Danish by default, English as a setting or a per-session choice."""
from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, session
from flask_babel import Babel, format_datetime, format_decimal, format_timedelta

from .models import utcnow

LANGUAGES = ("da", "en")


def init_app(app: Flask) -> None:
    """Set up Flask-Babel and the date filters the templates use."""
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    # Numbers as the reader's language writes them (4,4 in Danish, 4.4 in English).
    app.jinja_env.globals["format_decimal"] = format_decimal
    app.jinja_env.filters["age"] = age
    app.jinja_env.filters["when"] = when


def select_locale() -> str:
    """Use the language chosen in this session, else the configured default."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def age(moment: datetime) -> str:
    """Say how long ago `moment` was, in the page's language ('3 dage')."""
    return format_timedelta(utcnow() - moment, threshold=1.1)


def when(moment: datetime | None) -> str:
    """Format a timestamp in the configured time zone and the page's language."""
    return format_datetime(moment, "short") if moment is not None else ""

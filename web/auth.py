"""Logging in and out, the start page and the language switch."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, flash, redirect, render_template, request,
                   session, url_for)
from flask_babel import get_locale
from flask_login import LoginManager, current_user, login_user, logout_user

from . import audit, db
from .accounts import authenticate
from .forms import ActionForm, LanguageForm, LoginForm
from .i18n import LANGUAGES
from .models import User

bp = Blueprint("auth", __name__)
HOME = {"volunteer": "volunteer.my_cases", "caseworker": "caseworker.queue",
        "admin": "admin.users"}


def init_app(app: Flask) -> None:
    """Set up Flask-Login with sessions that expire and cookies scripts cannot read."""
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = "login_required"  # a key; templates/_flash.html has the words
    manager.session_protection = "basic"
    manager.user_loader(load_user)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    # Flask's default is None (no SameSite); Lax keeps the cookie off cross-site POSTs.
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=app.config["SESSION_LIFETIME"])


def load_user(user_id: str) -> User | None:
    """Return the logged-in user for Flask-Login, if still active."""
    user = db.session().get(User, int(user_id))
    return user if user is not None and user.active else None


def safe_next(target: str | None) -> str | None:
    """Accept only a path on this site as a place to go after login."""
    if not target:
        return None
    parts = urlsplit(target)
    # Browsers read a backslash like a slash, so "/\host" would leave the site too.
    if (parts.scheme or parts.netloc or not target.startswith("/")
            or target.startswith("//") or "\\" in target):
        return None
    return target


@bp.route("/")
def index():
    """Send people to their role's start page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(HOME[current_user.role]))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and log the user in."""
    form = LoginForm(next=request.args.get("next"))
    failed = False
    if form.validate_on_submit():
        store = db.session()
        user = authenticate(store, form.username.data, form.password.data)
        if user is None:
            # No username in the event: people sometimes type their password there.
            audit.record(store, None, "login.failed")
            store.commit()
            failed = True
        else:
            _fresh_session()  # against session fixation
            session.permanent = True
            login_user(user)
            audit.record(store, user, "login")
            store.commit()
            return redirect(safe_next(form.next.data) or url_for(HOME[user.role]))
    status = 401 if failed else 200
    return render_template("auth/login.html", form=form, failed=failed), status


def _fresh_session() -> None:
    """Start an empty session that keeps only the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out (a POST with a CSRF token, so other sites cannot do it)."""
    form = ActionForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        store = db.session()
        audit.record(store, current_user, "logout")
        store.commit()
        logout_user()
        _fresh_session()
        flash("logged_out")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def language():
    """Switch the page language for this session."""
    form = LanguageForm()
    if form.validate_on_submit() and form.lang.data in LANGUAGES:
        session["lang"] = form.lang.data
    return redirect(safe_next(form.next.data) or url_for("auth.index"))


@bp.app_context_processor
def inject_language():
    """Tell every page its language (for <html lang> and the language switch)."""
    return {"current_language": str(get_locale())}

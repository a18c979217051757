"""Logging in and out, setting a password from a link, the start page and the language switch."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, abort, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask_babel import get_locale
from flask_login import LoginManager, current_user, login_user, logout_user

from . import audit, db, sessions
from .accounts import AccountError, authenticate, password_link, use_password_link
from .forms import ActionForm, LanguageForm, LoginForm, SetPasswordForm
from .i18n import LANGUAGES
from .models import User, utcnow
from .throttle import throttle

bp = Blueprint("auth", __name__)
HOME = {"volunteer": "volunteer.my_cases", "coordinator": "volunteer.my_cases",
        "caseworker": "caseworker.queue",
        "admin": "admin.users"}


def init_app(app: Flask) -> None:
    """Set up Flask-Login with server-side sessions and cookies scripts cannot read."""
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
    """Return the logged-in user for Flask-Login: active, with a live server-side session."""
    try:
        uid = int(user_id)
    except ValueError:
        return None
    return sessions.user_for(db.session(), sessions.session_id(), uid)


def safe_next(target: str | None) -> str | None:
    """Accept only a path on this site as a place to go after login."""
    # Control characters (CR/LF above all) would split the Location header.
    if not target or any(ord(c) < 32 or ord(c) == 127 for c in target):
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
    form = LoginForm(next=safe_next(request.args.get("next")))
    failed = False
    if request.method == "POST" and not throttle().admit(request.remote_addr,
                                                         request.form.get("username")):
        abort(429)
    if form.validate_on_submit():
        store = db.session()
        user = authenticate(store, form.username.data, form.password.data)
        if user is None:
            throttle().failed(form.username.data)
            # No username in the event: people sometimes type their password there.
            audit.record(store, None, "login.failed")
            store.commit()
            failed = True
        else:
            target = safe_next(form.next.data) or url_for(HOME[user.role])
            sessions.end(store, sessions.session_id())  # a login over an older one
            _fresh_session()  # against session fixation
            session[sessions.SESSION_KEY] = sessions.start(store, user)
            # Not permanent: the cookie dies with the browser unless configured otherwise.
            session.permanent = current_app.config["SESSION_PERSISTENT"]
            login_user(user)
            user.last_login_at = utcnow()
            audit.record(store, user, "login")
            store.commit()
            return redirect(target)
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
        sessions.end(store, sessions.session_id())
        audit.record(store, current_user, "logout")
        store.commit()
        logout_user()
        _fresh_session()
        flash("logged_out")
    return redirect(url_for("auth.login"))


@bp.route("/password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Let the holder of a one-time link choose the account's password."""
    store = db.session()
    link = password_link(store, token)
    if link is None:
        return render_template("auth/set_password.html", form=None, username=None), 404
    form = SetPasswordForm()
    error, status = None, 200
    if form.validate_on_submit():
        if form.password.data != form.confirm.data:
            error, status = "password_mismatch", 400
        else:
            try:
                user = use_password_link(store, link, form.password.data)
            except AccountError as exc:
                store.rollback()
                error, status = exc.code, 400
            else:
                audit.record(store, user, "password.set", user.username)
                sessions.end(store, sessions.session_id())  # whoever was logged in here
                store.commit()
                if current_user.is_authenticated:
                    logout_user()
                _fresh_session()
                flash("password_set")
                return redirect(url_for("auth.login"))
    elif form.is_submitted():
        status = 400
    return render_template("auth/set_password.html", form=form, username=link.user.username,
                           error=error), status


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

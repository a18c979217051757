"""Admin pages: users and the audit log. Admins do not see case contents."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from . import audit, db
from .accounts import AccountError, create_user
from .errors import BadInput
from .forms import ActionForm, UserForm
from .models import AuditEvent, User
from .security import require_role

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_role("admin"))
AUDIT_PAGE_SIZE = 100
#: Beyond this page the offset no longer fits a database integer (SQLite's is 64-bit).
AUDIT_PAGE_MAX = 10**9


@bp.route("/")
def index():
    """Start on the user list."""
    return redirect(url_for("admin.users"))


@bp.route("/users", methods=["GET", "POST"])
def users():
    """List users and create a new one."""
    store = db.session()
    form = UserForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            user = create_user(store, form.username.data, form.role.data, form.password.data,
                               form.organisation.data)
        except AccountError as exc:
            store.rollback()
            error, status = exc.code, 400
        else:
            audit.record(store, current_user, "user.create", user.username)
            store.commit()
            flash("user_created")
            return redirect(url_for("admin.users"))
    elif form.is_submitted():
        status = 400
    rows = store.scalars(select(User).order_by(User.role, User.username))
    return render_template("admin/users.html", users=list(rows), form=form,
                           error=error), status


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def toggle_active(user_id: int):
    """Deactivate or reactivate a user (not oneself)."""
    store = db.session()
    user = store.get(User, user_id)
    if user is None:
        abort(404)
    if not ActionForm().validate_on_submit() or user.id == current_user.id:
        abort(400)
    user.active = not user.active
    audit.record(store, current_user, "user.activate" if user.active else "user.deactivate",
                 user.username)
    store.commit()
    return redirect(url_for("admin.users"))


@bp.route("/audit")
def audit_log():
    """Show the audit events, newest first, a page at a time."""
    store = db.session()
    page = max(request.args.get("page", 1, type=int), 1)
    if page > AUDIT_PAGE_MAX:
        raise BadInput(f"page must be at most {AUDIT_PAGE_MAX}", reason="bad_page")
    # One row past the page says whether there is a next one, without counting the table.
    events = list(store.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())
                                .offset((page - 1) * AUDIT_PAGE_SIZE).limit(AUDIT_PAGE_SIZE + 1)))
    return render_template("admin/audit.html", events=events[:AUDIT_PAGE_SIZE], page=page,
                           more=len(events) > AUDIT_PAGE_SIZE)

"""Admin pages: users, the audit log, and a case's export and erasure on request.

Admins never see case contents on screen: a case is shown by its metadata, its
export is a file download, and its deletion is confirmed by typing the reference.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from . import audit, db, privacy
from .accounts import AccountError, change_role, create_user, issue_password_link, set_active
from .errors import BadInput
from .forms import ActionForm, DeleteCaseForm, RoleForm, UserForm
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
    """List users and create a new one, who gets a one-time set-password link."""
    store = db.session()
    form = UserForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            # No password: the admin never knows it, so cannot log in as the new user.
            user = create_user(store, form.username.data, form.role.data, None,
                               form.organisation.data)
        except AccountError as exc:
            store.rollback()
            error, status = exc.code, 400
        else:
            audit.record(store, current_user, "user.create", f"{user.username} ({user.role})")
            return _show_link(store, user, "create")
    elif form.is_submitted():
        status = 400
    rows = store.scalars(select(User).order_by(User.role, User.username))
    return render_template("admin/users.html", users=list(rows), form=form,
                           error=error), status


def _show_link(store, user: User, purpose: str):
    """Issue a set-password link for `user` and show it, this once, to the admin."""
    token = issue_password_link(store, user, current_user, purpose)
    store.commit()
    link = url_for("auth.set_password", token=token, _external=True)
    return render_template("admin/link.html", user=user, link=link, purpose=purpose), 201


def _user_or_404(store, user_id: int) -> User:
    user = store.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>/reset", methods=["POST"])
def reset_password(user_id: int):
    """Give a user a new set-password link (the old password works until it is used)."""
    store = db.session()
    user = _user_or_404(store, user_id)
    if not ActionForm().validate_on_submit() or user.id == current_user.id or not user.active:
        abort(400)
    audit.record(store, current_user, "user.reset", user.username)
    return _show_link(store, user, "reset")


@bp.route("/users/<int:user_id>/role", methods=["POST"])
def set_role(user_id: int):
    """Give a user another role (not oneself, so that an admin always remains)."""
    store = db.session()
    user = _user_or_404(store, user_id)
    form = RoleForm()
    if not form.validate_on_submit() or user.id == current_user.id:
        abort(400)
    try:
        old = change_role(store, user, form.role.data)
    except AccountError as exc:
        store.rollback()
        flash(f"error_role_{exc.code}", "error")
        return redirect(url_for("admin.users"))
    if old != user.role:
        audit.record(store, current_user, "user.role", f"{user.username}: {old} -> {user.role}")
        store.commit()
        flash("role_changed")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def toggle_active(user_id: int):
    """Deactivate (ending all its sessions and tokens) or reactivate a user (not oneself)."""
    store = db.session()
    user = _user_or_404(store, user_id)
    if not ActionForm().validate_on_submit() or user.id == current_user.id:
        abort(400)
    set_active(store, user, not user.active)
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


@bp.route("/cases")
def cases():
    """Find a case by reference to answer an access or erasure request (no text shown)."""
    reference = request.args.get("ref", "").strip()[:40]  # a reference is 19 characters
    if not reference:
        return render_template("admin/cases.html", reference="", summary=None)
    store = db.session()
    try:
        case = privacy.find_case(store, reference)
    except privacy.CaseNotFound:
        return render_template("admin/cases.html", reference=reference, summary=None,
                               error="not_found"), 404
    return render_template("admin/cases.html", reference=case.public_id,
                           summary=privacy.case_summary(store, case), action_form=ActionForm(),
                           delete_form=DeleteCaseForm())


@bp.route("/cases/<public_id>/export", methods=["POST"])
def export_case(public_id: str):
    """Download everything stored about a case as a JSON file (audited)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        record = privacy.export_case(db.session(), current_user, public_id)
    except privacy.CaseNotFound:
        abort(404)
    reference = record["case"]["reference"]
    body = json.dumps(record, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="brobygger-{reference}.json"'})


@bp.route("/cases/<public_id>/delete", methods=["POST"])
def delete_case(public_id: str):
    """Delete a case on request once the admin has typed its reference again."""
    store = db.session()
    try:
        case = privacy.find_case(store, public_id)
    except privacy.CaseNotFound:
        abort(404)
    form = DeleteCaseForm()
    typed = (form.confirm.data or "").strip().upper()
    if not form.validate_on_submit() or typed != case.public_id:
        return render_template("admin/cases.html", reference=case.public_id,
                               summary=privacy.case_summary(store, case),
                               action_form=ActionForm(), delete_form=form,
                               error="confirm_mismatch"), 400
    privacy.delete_case(store, current_user, case.public_id)
    flash("case_deleted")
    return redirect(url_for("admin.cases"))

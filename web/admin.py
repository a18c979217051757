"""Admin pages: users, the audit log, and a case's export and erasure on request.

Admins never see case contents on screen: a case is shown by its metadata, its
export is a file download, and its deletion is confirmed by typing the reference.
"""
from __future__ import annotations

import json
import re

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_babel import ngettext
from flask_login import current_user, logout_user
from sqlalchemy import select

from . import audit, auditlog, db, privacy
from .accounts import (ASSIGNABLE_ROLES, ORGANISATION_ROLES, AccountError, create_user,
                       issue_password_link, release_cases, set_active, update_user)
from .forms import ActionForm, DeleteCaseForm, RoleForm, UserForm
from .models import User, utcnow
from .security import require_role

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_role("admin"))
#: A page key beyond this is no event's id (and would not fit a database integer).
AUDIT_PAGE_MAX = 2**63 - 1


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
    return _users_page(store, form=form, error=error), status


def _users_page(store, form: UserForm | None = None, error: str | None = None,
                refused: str | None = None, refused_user: User | None = None) -> str:
    """The user list; `refused` names why a change of `refused_user` was not made."""
    rows = store.scalars(select(User).order_by(User.role, User.username))
    return render_template("admin/users.html", users=list(rows), form=form or UserForm(),
                           error=error, refused=refused, refused_user=refused_user,
                           roles=ASSIGNABLE_ROLES, organisation_roles=ORGANISATION_ROLES)


def _refuse(store, code: str, user: User | None = None):
    """Show the user list again with why the change was refused (400); nothing was changed."""
    store.rollback()
    return _users_page(store, refused=code, refused_user=user), 400


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
    if not ActionForm().validate_on_submit():
        abort(400)
    if user.id == current_user.id:
        return _refuse(store, "reset_self", user)
    if not user.active:
        return _refuse(store, "reset_inactive", user)
    audit.record(store, current_user, "user.reset", user.username)
    return _show_link(store, user, "reset")


@bp.route("/users/<int:user_id>/role", methods=["POST"])
def set_role(user_id: int):
    """Change a user's role and organisation; the last active admin stays an admin."""
    store = db.session()
    user = _user_or_404(store, user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _refuse(store, "bad_role" if form.role.errors else "bad_form", user)
    try:
        changes = update_user(store, user, form.role.data, form.organisation.data)
    except AccountError as exc:
        return _refuse(store, exc.code, user)
    for action, detail in changes:
        audit.record(store, current_user, action, f"{user.username}: {detail}")
    released = _release(store, user) if user.role != "caseworker" else []
    store.commit()
    if changes:
        flash("user_changed")
    if released:
        flash(_released_message(released, user))
    if user.id == current_user.id and user.role != "admin":
        return redirect(url_for("auth.index"))  # the admin pages are no longer theirs
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def toggle_active(user_id: int):
    """Deactivate (ending all its sessions and tokens) or reactivate a user.

    An admin may deactivate their own account only while another active admin remains.
    """
    store = db.session()
    user = _user_or_404(store, user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        set_active(store, user, not user.active)
    except AccountError as exc:
        return _refuse(store, exc.code, user)
    audit.record(store, current_user, "user.activate" if user.active else "user.deactivate",
                 user.username)
    released = _release(store, user) if not user.active else []
    store.commit()
    if released:
        flash(_released_message(released, user))
    if user.id == current_user.id:
        logout_user()  # the session row is gone already; the cookie goes too
        flash("self_deactivated")
        return redirect(url_for("auth.login"))
    flash("user_activated" if user.active else "user_deactivated")
    return redirect(url_for("admin.users"))


def _release(store, user: User) -> list[str]:
    """Return the user's open cases to the queue, each audited like a hand-back."""
    released = release_cases(store, user)
    for reference in released:
        audit.record(store, current_user, "case.assign", f"{reference} -")
    return released


def _released_message(released: list[str], user: User) -> str:
    return ngettext("%(num)d sag, som %(name)s havde, er lagt tilbage i køen.",
                    "%(num)d sager, som %(name)s havde, er lagt tilbage i køen.",
                    len(released), name=user.username)


def _page_key(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if not re.fullmatch(r"[0-9]{1,19}", value) or int(value) > AUDIT_PAGE_MAX:
        raise auditlog.FilterError("bad_page")
    return int(value)


@bp.route("/audit")
def audit_log():
    """Show the audit events, newest first, filtered and a page at a time."""
    store = db.session()
    try:
        filters = auditlog.parse(request.args)
        before = auditlog.key_event(store, _page_key("before"))
        after = auditlog.key_event(store, _page_key("after"))
    except auditlog.FilterError as exc:
        return render_template("admin/audit.html", filters=_as_typed(request.args), page=None,
                               error=exc.code, **_audit_choices(request.args)), 400
    page = auditlog.page(store, filters, before=before, after=after)
    return render_template("admin/audit.html", filters=filters, page=page, error=None,
                           paged=before is not None or after is not None,
                           **_audit_choices(request.args))


def _as_typed(args) -> auditlog.Filters:
    """The filters as the admin typed them, shown again beside why they were refused."""
    def typed(name):
        return (args.get(name) or "").strip()[:auditlog.FIELD_MAX]
    return auditlog.Filters(who=typed("who"), action=typed("action"), case=typed("case"),
                            start=typed("from"), end=typed("to"))


def _audit_choices(args) -> dict:
    names = {code: auditlog.action_name(code) for code in auditlog.ACTION_NAMES}
    chosen = (args.get("action") or "").strip()
    if chosen and chosen not in names and len(chosen) <= auditlog.FIELD_MAX:
        names[chosen] = chosen  # an unknown code stays selectable as it is stored
    return {"actions": sorted(names.items(), key=lambda item: item[1].casefold()),
            "action_name": auditlog.action_name}


@bp.route("/audit/export", methods=["POST"])
def export_audit():
    """Download the filtered events as CSV; the export is itself an audit event."""
    if not ActionForm().validate_on_submit():
        abort(400)
    store = db.session()
    try:
        filters = auditlog.parse(request.form)
    except auditlog.FilterError as exc:
        return render_template("admin/audit.html", filters=_as_typed(request.form), page=None,
                               error=exc.code, **_audit_choices(request.form)), 400
    audit.record(store, current_user, "audit.export", filters.describe()[:120])
    store.commit()
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return Response(stream_with_context(auditlog.export_rows(store, filters)),
                    mimetype="text/csv", headers={
                        "Content-Disposition": f'attachment; filename="revisionslog-{stamp}.csv"'})


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

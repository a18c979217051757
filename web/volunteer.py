"""Volunteer pages: the note form, the receipt, "Mine sager", answers and withdrawal.

A volunteer reads only the cases they wrote; an organisation's coordinator reads all of the
organisation's, without writing on them (cases.readable_case).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from . import audit, cases, db, messages, notify
from .engine import get_matcher
from .forms import MessageForm, NoteForm, WithdrawForm
from .outcome import explain
from .security import require_role

bp = Blueprint("volunteer", __name__, url_prefix="/volunteer")
bp.before_request(require_role("volunteer", "coordinator"))


def get_own_case(public_id: str):
    """Return a case the user may read; 404 for others' (existence stays hidden)."""
    case = cases.readable_case(db.session(), current_user, public_id)
    if case is None:
        abort(404)
    return case


@bp.route("/notes/new", methods=["GET", "POST"])
def new_note():
    """Show the note form and submit the note."""
    if current_user.role != "volunteer":
        abort(403)
    form = NoteForm()
    error = None
    if form.validate_on_submit():
        try:
            case = cases.submit_note(
                db.session(), get_matcher(), current_user, form.text.data, form.area.data,
                consent=bool(form.consent.data), wishes=form.wishes.data,
                top=current_app.config["MATCH_TOP"])
        except cases.CaseError as exc:
            error = exc.code
        else:
            return redirect(url_for("volunteer.receipt", public_id=case.public_id))
    # A refused note re-renders the form with its errors as 400, as the API answers.
    status = 400 if form.is_submitted() else 200
    return render_template("volunteer/new_note.html", form=form, error=error), status


@bp.route("/notes/<public_id>/receipt")
def receipt(public_id: str):
    """Confirm the submission and show the case reference and the text as it was stored."""
    case = get_own_case(public_id)
    # Audited like a read: the receipt is where the volunteer checks what was stored.
    cases.record_view(db.session(), current_user, "note.receipt", case)
    return render_template("volunteer/receipt.html", case=case)


@bp.route("/notes")
def my_cases():
    """List the volunteer's own cases (a coordinator: the organisation's) with status and news."""
    store = db.session()
    rows = cases.readable_cases(store, current_user)
    audit.record_reads(store, current_user, "note.list", rows)  # each row has an excerpt
    return render_template("volunteer/my_cases.html", cases=rows, outcome=cases.outcome,
                           unread=notify.unread(store, current_user, rows))


@bp.route("/notes/<public_id>")
def show_note(public_id: str):
    """Show one case: the note, the thread with the caseworker and, once closed, the outcome."""
    return render_note(get_own_case(public_id))


def render_note(case, status: int = 200, message_form=None, withdraw_form=None):
    """Render the volunteer's case page (also after a form error, with that form's messages)."""
    store = db.session()
    cases.record_view(store, current_user, "note.view", case)
    notify.mark_read(store, current_user, case)
    found = cases.outcome(case)
    page = render_template(
        "volunteer/case.html", case=case, outcome=found, explained=explain(get_matcher(), found),
        thread=messages.thread(store, case), waited=messages.waiting_seconds(case),
        can_post=messages.can_post(case, current_user),
        can_withdraw=messages.can_withdraw(case, current_user),
        message_form=message_form or MessageForm(), withdraw_form=withdraw_form or WithdrawForm())
    return page, status


@bp.route("/notes/<public_id>/messages", methods=["POST"])
def post_message(public_id: str):
    """Answer the caseworker's question, or add information to the case."""
    case = get_own_case(public_id)
    form = MessageForm()
    if not form.validate_on_submit():
        return render_note(case, 400, message_form=form)
    try:
        sent = messages.post(db.session(), case, current_user, form.text.data)
    except cases.CaseError as exc:
        if exc.code == "forbidden":
            abort(403)
        flash(f"error_{exc.code}", "error")
        return redirect(url_for("volunteer.show_note", public_id=case.public_id))
    flash(f"message_{sent.kind}")
    return redirect(url_for("volunteer.show_note", public_id=case.public_id, _anchor="thread"))


@bp.route("/notes/<public_id>/withdraw", methods=["POST"])
def withdraw(public_id: str):
    """Withdraw the case, with a reason, while nothing has been decided on it."""
    case = get_own_case(public_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return render_note(case, 400, withdraw_form=form)
    try:
        messages.withdraw(db.session(), case, current_user, form.reason.data)
    except cases.CaseError as exc:
        if exc.code == "forbidden":
            abort(403)
        flash(f"error_{exc.code}", "error")
        return redirect(url_for("volunteer.show_note", public_id=case.public_id))
    flash("case_withdrawn")
    return redirect(url_for("volunteer.show_note", public_id=case.public_id))

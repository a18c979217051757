"""Volunteer pages: the note form, the receipt and "Mine sager"."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask_login import current_user

from . import audit, cases, db
from .engine import get_matcher
from .forms import NoteForm
from .security import require_role

bp = Blueprint("volunteer", __name__, url_prefix="/volunteer")
bp.before_request(require_role("volunteer"))


def get_own_case(public_id: str):
    """Return a case of the volunteer's organisation; 404 for others' (existence stays hidden)."""
    case = cases.organisation_case(db.session(), current_user, public_id)
    if case is None:
        abort(404)
    return case


@bp.route("/notes/new", methods=["GET", "POST"])
def new_note():
    """Show the note form and submit the note."""
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
    """List the organisation's cases with their status ("Mine sager")."""
    rows = cases.organisation_cases(db.session(), current_user)
    audit.record_reads(db.session(), current_user, "note.list", rows)  # each row has an excerpt
    return render_template("volunteer/my_cases.html", cases=rows, outcome=cases.outcome)


@bp.route("/notes/<public_id>")
def show_note(public_id: str):
    """Show one case: the note, its status and, once closed, the outcome and message."""
    case = get_own_case(public_id)
    cases.record_view(db.session(), current_user, "note.view", case)
    return render_template("volunteer/case.html", case=case, outcome=cases.outcome(case))

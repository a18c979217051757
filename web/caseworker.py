"""Caseworker pages: the queue and the case page with its decisions."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from . import audit, cases, db, messages
from .engine import get_matcher
from .forms import CloseForm, DecisionForm, MessageForm
from .highlight import segments
from .models import AREAS
from .security import require_role

bp = Blueprint("caseworker", __name__, url_prefix="/caseworker")
bp.before_request(require_role("caseworker"))


def get_case_or_404(public_id: str):
    """Return the case with this reference or answer 404."""
    case = cases.get_case(db.session(), public_id)
    if case is None:
        abort(404)
    return case


@bp.route("/queue")
def queue():
    """List cases oldest first, filtered by area and status."""
    try:
        area, status = cases.queue_filter(request.args.get("area"), request.args.get("status"))
    except cases.CaseError:
        abort(400)
    rows = cases.queue(db.session(), area=area, status=status)
    audit.record_reads(db.session(), current_user, "queue.view", rows)
    return render_template("caseworker/queue.html", cases=rows, area=area, status=status,
                           areas=AREAS, statuses=tuple(cases.QUEUE_STATUSES),
                           top=cases.top_suggestion)


@bp.route("/cases/<public_id>")
def show_case(public_id: str):
    """Show the note with highlighted evidence, the suggestions and the corpus search."""
    case = get_case_or_404(public_id)
    cases.record_view(db.session(), current_user, "case.view", case)
    return render_case(case)


def render_case(case, status: int = 200, close_form: CloseForm | None = None,
                message_form: MessageForm | None = None):
    """Render the case page (also after a form error, with that form's messages)."""
    query = request.args.get("q", "").strip()
    matcher = get_matcher()
    listed = {s.entry_id for s in case.suggestions}
    found = [e for e in matcher.search(query, limit=20) if e.id not in listed] if query else []
    ordered = cases.ranked(case.suggestions)
    evidence = {s.id: s.evidence for s in ordered}
    # the corpus's plain summary and the act's own words, side by side for each provision
    entries = {s.id: matcher.corpus.get(s.entry_id) for s in ordered}
    enacted = {s.id: matcher.enacted(s.entry_id) for s in ordered}
    page = render_template(
        "caseworker/case.html", case=case, suggestions=ordered, entries=entries, enacted=enacted,
        decisions=cases.latest_decisions(case), segments=segments(case.text, evidence),
        query=query, found=found, decision_form=DecisionForm(),
        close_form=close_form or CloseForm(), thread=messages.thread(db.session(), case),
        waited=messages.waiting_seconds(case), can_ask=messages.can_post(case, current_user),
        message_form=message_form or MessageForm())
    return page, status


@bp.route("/cases/<public_id>/decisions", methods=["POST"])
def decide(public_id: str):
    """Confirm or reject a suggestion, or add an entry the engine missed."""
    case = get_case_or_404(public_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        cases.decide(db.session(), get_matcher(), case, current_user, form.entry_id.data,
                     form.decision.data, form.reason.data)
    except cases.CaseError as exc:
        flash(f"error_{exc.code}", "error")
        return redirect(url_for("caseworker.show_case", public_id=case.public_id))
    flash(f"decision_{form.decision.data}")
    anchor = f"entry-{form.entry_id.data}"
    return redirect(url_for("caseworker.show_case", public_id=case.public_id, _anchor=anchor))


@bp.route("/cases/<public_id>/close", methods=["POST"])
def close(public_id: str):
    """Close the case with a message to the volunteer."""
    case = get_case_or_404(public_id)
    form = CloseForm()
    if not form.validate_on_submit():
        # The form's errors come back on the case page, which shows the note again.
        cases.record_view(db.session(), current_user, "case.view", case)
        return render_case(case, status=400, close_form=form)
    try:
        cases.close(db.session(), case, current_user, form.message.data)
    except cases.CaseError as exc:
        flash(f"error_{exc.code}", "error")
        return redirect(url_for("caseworker.show_case", public_id=case.public_id))
    flash("case_closed")
    return redirect(url_for("caseworker.queue"))


@bp.route("/cases/<public_id>/messages", methods=["POST"])
def ask(public_id: str):
    """Ask the case's volunteer a question: the case waits for the answer."""
    case = get_case_or_404(public_id)
    form = MessageForm()
    if not form.validate_on_submit():
        cases.record_view(db.session(), current_user, "case.view", case)
        return render_case(case, status=400, message_form=form)
    try:
        messages.post(db.session(), case, current_user, form.text.data)
    except cases.CaseError as exc:
        flash(f"error_{exc.code}", "error")
        return redirect(url_for("caseworker.show_case", public_id=case.public_id))
    flash("message_question")
    return redirect(url_for("caseworker.show_case", public_id=case.public_id, _anchor="thread"))

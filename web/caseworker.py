"""Caseworker pages: the queue and the case page with its decisions."""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user
from sqlalchemy import select

from . import audit, cases, db, deadlines, messages
from . import queue as queues
from .engine import get_matcher
from .forms import AssignForm, CloseForm, DecisionForm, MessageForm, ReopenForm
from .highlight import segments
from .models import AREAS, User, utcnow
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
    """The queue: search, filters that combine, four orders, a page at a time."""
    args = request.args
    try:
        query = queues.parse(args.get("q"), args.get("area"), args.get("status"),
                             args.get("assigned"), args.get("sort"), args.get("page"))
        page = queues.find(db.session(), current_user, query, current_app.config["QUEUE_PAGE_SIZE"])
    except cases.CaseError as exc:
        return render_template("caseworker/queue.html", page=None, query=None, error=exc.code,
                               **_queue_choices()), 400
    audit.record_reads(db.session(), current_user, "queue.view", page.items)
    return render_template("caseworker/queue.html", page=page, query=query, error=None,
                           top=cases.top_suggestion, days_left=deadlines.days_left,
                           **_queue_choices())


def _queue_choices() -> dict:
    colleagues = db.session().scalars(select(User.username).where(
        User.role == "caseworker", User.active.is_(True)).order_by(User.username))
    return dict(areas=AREAS, statuses=tuple(cases.QUEUE_STATUSES), sorts=tuple(queues.SORTS),
                colleagues=list(colleagues))


@bp.route("/cases/<public_id>")
def show_case(public_id: str):
    """Show the note with highlighted evidence, the suggestions and the corpus search."""
    case = get_case_or_404(public_id)
    cases.record_view(db.session(), current_user, "case.view", case)
    return render_case(case)


def render_case(case, status: int = 200, close_form: CloseForm | None = None,
                message_form: MessageForm | None = None,
                confirm_close: bool = False, close_error: str | None = None,
                reopen_form: ReopenForm | None = None):
    """Render the case page (also after a form error, with that form's messages)."""
    query = request.args.get("q", "").strip()
    matcher = get_matcher()
    listed = {s.entry_id for s in case.suggestions}
    found = [e for e in matcher.search(query, limit=20) if e.id not in listed] if query else []
    # Provisions no longer in force come last, marked "ophævet", and cannot be added.
    today = utcnow().date()
    found = sorted(found, key=lambda e: not e.in_force(today))
    repealed = {e.id for e in found if not e.in_force(today)}
    ordered = cases.ranked(case.suggestions)
    evidence = {s.id: s.evidence for s in ordered}
    # the corpus's plain summary and the act's own words, side by side for each provision
    entries = {s.id: matcher.corpus.get(s.entry_id) for s in ordered}
    enacted = {s.id: matcher.enacted(s.entry_id) for s in ordered}
    page = render_template(
        "caseworker/case.html", case=case, suggestions=ordered, entries=entries, enacted=enacted,
        decisions=cases.latest_decisions(case), segments=segments(case.text, evidence),
        query=query, found=found, repealed=repealed, decision_form=DecisionForm(),
        close_form=close_form or CloseForm(), confirm_close=confirm_close,
        close_error=close_error, reopen_form=reopen_form or ReopenForm(),
        progress=cases.progress(case), days_left=deadlines.days_left(case),
        colleagues=_queue_choices()["colleagues"], thread=messages.thread(db.session(), case),
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
    # Shown beside the suggestion that was decided (category "decided"), not at the top.
    flash(f"{form.decision.data} {form.entry_id.data}", "decided")
    anchor = f"entry-{form.entry_id.data}"
    return redirect(url_for("caseworker.show_case", public_id=case.public_id, _anchor=anchor))


@bp.route("/cases/<public_id>/close", methods=["POST"])
def close(public_id: str):
    """Close the case after confirmation, with a message to the volunteer or a reason."""
    case = get_case_or_404(public_id)
    form = CloseForm()
    if not form.validate_on_submit():
        # The form's errors come back on the case page, which shows the note again.
        cases.record_view(db.session(), current_user, "case.view", case)
        return render_case(case, status=400, close_form=form)
    try:
        cases.check_closing(form.message.data, form.reason.data, form.reason_text.data)
    except cases.CaseError as exc:
        cases.record_view(db.session(), current_user, "case.view", case)
        return render_case(case, status=400, close_form=form, close_error=exc.code)
    if form.confirmed.data != "yes":
        # Without the page's script the confirmation is this second page; with it, a dialog.
        cases.record_view(db.session(), current_user, "case.view", case)
        return render_case(case, close_form=form, confirm_close=True)
    try:
        cases.close(db.session(), case, current_user, form.message.data, form.reason.data,
                    form.reason_text.data)
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


@bp.route("/cases/<public_id>/reopen", methods=["POST"])
def reopen(public_id: str):
    """Open a closed case again, with a reason (audited; the volunteer sees it was reopened)."""
    case = get_case_or_404(public_id)
    form = ReopenForm()
    if not form.validate_on_submit():
        cases.record_view(db.session(), current_user, "case.view", case)
        return render_case(case, status=400, reopen_form=form)
    try:
        cases.reopen(db.session(), case, current_user, form.reason.data)
    except cases.CaseError as exc:
        flash(f"error_{exc.code}", "error")
        return redirect(url_for("caseworker.show_case", public_id=case.public_id))
    flash("case_reopened")
    return redirect(url_for("caseworker.show_case", public_id=case.public_id))


@bp.route("/cases/<public_id>/assign", methods=["POST"])
def assign(public_id: str):
    """Take the case, hand it to a colleague, or put it back in the queue."""
    case = get_case_or_404(public_id)
    form = AssignForm()
    if not form.validate_on_submit():
        abort(400)
    to = (form.to.data or "").strip() or None
    try:
        cases.assign(db.session(), case, current_user, to)
    except cases.CaseError as exc:
        flash(f"error_{exc.code}", "error")
    else:
        flash("case_taken" if to == current_user.username else
              "case_assigned" if to else "case_unassigned")
    back = request.form.get("back")
    if back == "queue":
        return redirect(url_for("caseworker.queue", assigned="me" if to == current_user.username else None))
    return redirect(url_for("caseworker.show_case", public_id=case.public_id))

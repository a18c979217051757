"""The organisations' wishes register: rooms, money, knowledge, cooperation, tied to no citizen.

The organisation's coordinator submits a wish and sees the organisation's wishes with their
answers; the municipality's volunteer coordinator, a caseworker with `answers_wishes`,
answers it. The words are pseudonymised like a note before they are stored. Leaders see only
the counts, on the overview.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, db
from .engine import redact
from .forms import WishAnswerForm, WishForm
from .models import WISH_KINDS, WISH_OUTCOMES, User, Wish, utcnow
from .security import require_role

bp = Blueprint("wishes", __name__, url_prefix="/wishes")
#: Who submits a wish for the organisation: its coordinator (volunteers write about citizens).
SUBMITTERS = ("coordinator",)
bp.before_request(require_role(*SUBMITTERS, "caseworker"))


def may_answer(user: User) -> bool:
    """Say whether the user is the municipality's volunteer coordinator."""
    return user.role == "caseworker" and bool(user.answers_wishes)


def submit(store: Session, user: User, kind: str, text: str) -> Wish:
    """Store an organisation's wish, pseudonymised."""
    if kind not in WISH_KINDS:
        abort(400)
    wish = Wish(organisation_id=user.organisation_id, created_by_id=user.id, kind=kind,
                text=redact(text.strip()), created_at=utcnow())
    store.add(wish)
    store.flush()
    audit.record(store, user, "wish.submit", str(wish.id))
    store.commit()
    return wish


def answer(store: Session, user: User, wish: Wish, outcome: str, text: str | None) -> None:
    """Record the volunteer coordinator's answer (a later answer replaces an earlier one)."""
    if outcome not in WISH_OUTCOMES:
        abort(400)
    text = (text or "").strip()
    wish.outcome, wish.answer = outcome, redact(text) if text else None
    wish.answered_at, wish.answered_by_id = utcnow(), user.id
    audit.record(store, user, "wish.answer", str(wish.id))
    store.commit()


@bp.route("/", methods=["GET", "POST"])
def register():
    """A coordinator: the organisation's wishes and the form; the volunteer coordinator: every wish."""
    store = db.session()
    form = WishForm()
    status = 200
    if current_user.role in SUBMITTERS:
        if form.validate_on_submit():
            submit(store, current_user, form.kind.data, form.text.data)
            flash("wish_submitted")
            return redirect(url_for("wishes.register"))
        if form.is_submitted():
            status = 400
        query = select(Wish).where(Wish.organisation_id == current_user.organisation_id)
    elif may_answer(current_user):
        query = select(Wish)
    else:
        abort(403)
    rows = list(store.scalars(query.order_by(Wish.outcome.is_not(None), Wish.created_at.desc())))
    audit.record(store, current_user, "wishes.view")
    store.commit()
    return render_template("wishes/register.html", wishes=rows, form=form,
                           answer_form=WishAnswerForm(), answering=may_answer(current_user),
                           kinds=WISH_KINDS, outcomes=WISH_OUTCOMES), status


@bp.route("/<int:wish_id>/answer", methods=["POST"])
def answer_wish(wish_id: int):
    """The volunteer coordinator answers a wish."""
    if not may_answer(current_user):
        abort(403)
    store = db.session()
    wish = store.get(Wish, wish_id)
    if wish is None:
        abort(404)
    form = WishAnswerForm()
    if not form.validate_on_submit():
        abort(400)
    answer(store, current_user, wish, form.outcome.data, form.answer.data)
    flash("wish_answered")
    return redirect(url_for("wishes.register"))

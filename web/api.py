"""The JSON API (/api/v1), /healthz and /openapi.json. Every error is {"error": ...}."""
from __future__ import annotations

import json
import re
from functools import cache, wraps
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from sqlalchemy import text

from . import audit, cases, db, engine, messages, notify
from . import queue as queues
from .accounts import authenticate, issue_token, revoke_token, user_for_token
from .engine import get_matcher
from .errors import json_error
from .insights import metrics as insight_metrics
from .insights.views import threshold as insight_threshold
from .models import CLOSE_REASONS, IDEMPOTENCY_KEY_MAX, utcnow
from .serialize import case_json, entry_json, message_json, note_item_json, note_json, queue_item_json
from .throttle import throttle

bp = Blueprint("api", __name__)
OPENAPI = Path(__file__).resolve().parent / "openapi.json"
# Machine-facing messages, in English like the rest of the API contract.
CASE_ERRORS = {
    "consent_required": "consent must be true: the citizen must agree to share the account",
    "text_missing": "text is required",
    "text_too_short": f"text must be at least {cases.TEXT_MIN} characters",
    "text_too_long": f"text must be at most {cases.TEXT_MAX} characters",
    "text_no_words": "write a few sentences about the citizen's situation: text has no words "
                     "(only invisible characters, marks or punctuation)",
    "bad_area": "area must be one of: ældre, flygtning, andet",
    "bad_status": f"status must be one of: {', '.join(cases.QUEUE_STATUSES)}",
    "wishes_too_long": f"organisation_wishes must be at most {cases.WISHES_MAX} characters",
    "bad_decision": "decision must be 'confirm' or 'reject'",
    "unknown_entry": "entry_id is not in the corpus",
    "reason_too_long": f"reason must be at most {cases.REASON_MAX} characters",
    "message_too_long": f"message must be at most {cases.MESSAGE_MAX} characters",
    "case_closed": "the case is closed or withdrawn",
    "case_decided": "the case cannot be withdrawn: a suggestion on it has been decided",
    "message_missing": "text is required",
    "message_no_words": "text has no words (only invisible characters, marks or punctuation)",
    "reason_missing": "reason is required",
    "idempotency_key_reused": "this Idempotency-Key was used for another note; use a new key for a new note",
    "bad_sort": f"sort must be one of: {', '.join(queues.SORTS)}",
    "bad_page": "page must be a value of `next` from an earlier answer",
    "query_too_long": f"q must be at most {queues.QUERY_MAX} characters",
    "unknown_assignee": "no active caseworker has this username",
    "close_needs_message_or_reason": "give a message to the volunteer, a reason for no action, or both",
    "bad_close_reason": f"reason must be one of: {', '.join(CLOSE_REASONS)}",
    "referral_needs_place": "reason 'referred' needs reason_text: where the citizen was referred",
    "reopen_needs_reason": "reason is required: say why the case is reopened",
    "case_not_closed": "the case is not closed",
    "entry_not_in_force": "the provision is no longer in force and cannot be added",
}
#: An Idempotency-Key: printable ASCII, as the IETF draft's examples (a UUID fits).
IDEMPOTENCY_KEY = re.compile(rf"[\x20-\x7e]{{1,{IDEMPOTENCY_KEY_MAX}}}")


def fail(status: int, message: str):
    """Stop the request with a JSON error body."""
    abort(json_error(status, message))


def fail_case(exc: cases.CaseError):
    """Answer a refused case operation: 409 for a closed case, 400 for bad input."""
    status = {"case_closed": 409, "case_not_closed": 409, "case_decided": 409, "idempotency_key_reused": 422,
              "forbidden": 403}.get(exc.code, 400)
    fail(status, CASE_ERRORS.get(exc.code, exc.code))


def body() -> dict:
    """Return the request's JSON object or answer 400."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        fail(400, "the body must be a JSON object (Content-Type: application/json)")
    return data


def optional_str(data: dict, key: str) -> str | None:
    """Return an optional string field or answer 400 for another type."""
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        fail(400, f"{key} must be a string")
    return value


def requires(*roles: str):
    """Admit only requests with a valid bearer token of a user with one of `roles`."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                fail(401, "a bearer token is required (POST /api/v1/auth/token)")
            user = user_for_token(db.session(), token.strip())
            if user is None:
                fail(401, "the token is invalid or has expired")
            if user.role not in roles:
                fail(403, f"this endpoint is for the role: {', '.join(roles)}")
            g.api_user, g.api_token = user, token.strip()
            return view(*args, **kwargs)
        return wrapped
    return decorator


@bp.before_request
def refuse_undocumented_query_parameters():
    """Answer 400 for a query parameter /openapi.json does not list for the route (a misspelt
    ?stauts= would otherwise be ignored and the client shown every open case)."""
    if request.url_rule is None or request.method == "OPTIONS":
        return
    path = re.sub(r"<(?:\w+:)?(\w+)>", "{id}", request.url_rule.rule)
    method = "get" if request.method == "HEAD" else request.method.lower()
    allowed = _query_parameters().get((method, path))
    if allowed is None:  # /openapi.json itself
        return
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        listed = ", ".join(sorted(allowed)) or "none"
        fail(400, f"unknown query parameter: {unknown[0][:40]} (this endpoint takes: {listed})")


@cache
def _query_parameters() -> dict[tuple[str, str], frozenset[str]]:
    spec = json.loads(_openapi_bytes())
    return {(method, path): frozenset(p["name"] for p in operation.get("parameters", []) if p["in"] == "query")
            for path, item in spec["paths"].items() for method, operation in item.items()}


def case_or_404(public_id: str):
    """Return any case by reference or answer 404."""
    case = cases.get_case(db.session(), public_id)
    if case is None:
        fail(404, "no such case")
    return case


@bp.route("/healthz")
def healthz():
    """Report that the process answers, the engine is loaded (and with which encoder), the database
    is reachable and the rate-limit store's state.

    While the engine is not loaded the answer is 503 and the load is started in the
    background, so a proxy sends no note to a process that would make it wait. An unreachable
    rate-limit store is "degraded", not unhealthy: logins go on with per-process counters, so the
    proxy should keep sending traffic.
    """
    try:
        db.session().execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        fail(503, "database unavailable")
    store = throttle().status()
    app = current_app._get_current_object()
    if "matcher" not in app.extensions:
        engine.load_in_background(app)
        fail(503, "the matching engine is still loading; try again in a moment")
    engine.switch_when_ready(app)  # checks drive the switch to a trained encoder even without traffic
    serving = getattr(app.extensions["matcher"], "encoder", None)
    return jsonify(status="degraded" if store == "degraded" else "ok", engine_loaded=True, rate_limit_store=store,
                   encoder=getattr(serving, "name", None), encoder_waiting_for=engine.waiting_for(app))


@bp.route("/openapi.json")
def openapi():
    """Serve the API description."""
    return Response(_openapi_bytes(), mimetype="application/json")


@cache
def _openapi_bytes() -> bytes:
    return OPENAPI.read_bytes()


@bp.route("/api/v1/auth/token", methods=["POST"])
def token():
    """Exchange username and password for a bearer token."""
    data = request.get_json(silent=True)
    username = data.get("username") if isinstance(data, dict) else None
    # Counted before anything else, with the web form's login attempts.
    if not throttle().admit(request.remote_addr, username if isinstance(username, str) else None):
        fail(429, "too many login attempts from this address or on this username; try again later")
    data = body()
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        fail(400, "username and password are required strings")
    store = db.session()
    user = authenticate(store, username, password)
    if user is None:
        throttle().failed(username)
        audit.record(store, None, "login.failed")
        store.commit()
        fail(401, "bad credentials")
    raw, expires_at = issue_token(store, user)
    user.last_login_at = utcnow()
    audit.record(store, user, "token.issue")
    store.commit()
    return jsonify(token=raw, role=user.role, expires_at=expires_at.isoformat())


@bp.route("/api/v1/auth/logout", methods=["POST"])
@requires("volunteer", "coordinator", "caseworker", "leader", "admin")
def logout():
    """Revoke the bearer token presented: it stops working at once."""
    store = db.session()
    revoke_token(store, g.api_token)
    audit.record(store, g.api_user, "token.revoke")
    store.commit()
    return "", 204


@bp.route("/api/v1/notes", methods=["POST"])
@requires("volunteer")
def create_note():
    """Submit a note: redacted, matched and stored; with an Idempotency-Key a retry gets the first case."""
    data = body()
    text_value = optional_str(data, "text")
    area, wishes = optional_str(data, "area"), optional_str(data, "organisation_wishes")
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        fail(400, f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters")
    args = dict(consent=data.get("consent") is True, wishes=wishes, top=current_app.config["MATCH_TOP"])
    store, matcher = db.session(), get_matcher()
    try:
        if key is None:
            case, created = cases.submit_note(store, matcher, g.api_user, text_value, area, **args), True
        else:
            case, created = cases.submit_note_once(store, matcher, g.api_user, key, text_value, area, **args)
    except cases.CaseError as exc:
        fail_case(exc)
    # A replay answers what the first request answered: the case as it was created.
    response = jsonify(id=case.public_id, status="pending" if not created else case.status)
    response.status_code = 201
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.route("/api/v1/notes")
@requires("volunteer", "coordinator")
def list_notes():
    """List the volunteer's own notes (a coordinator: the organisation's), newest first."""
    store = db.session()
    rows = cases.readable_cases(store, g.api_user)
    news = notify.unread(store, g.api_user, rows)
    audit.record_reads(store, g.api_user, "note.list", rows)
    return jsonify(items=[note_item_json(c, c.id in news) for c in rows])


def readable_or_404(public_id: str):
    """Return a case the volunteer wrote (a coordinator: of the organisation) or answer 404."""
    case = cases.readable_case(db.session(), g.api_user, public_id)
    if case is None:
        # 404, not 403: a colleague's or another organisation's case must not be shown to exist.
        fail(404, "no such note")
    return case


@bp.route("/api/v1/notes/<public_id>")
@requires("volunteer", "coordinator")
def get_note(public_id: str):
    """Return a note with its thread, and its outcome once closed; its news counts as read."""
    store = db.session()
    case = readable_or_404(public_id)
    cases.record_view(store, g.api_user, "note.view", case)
    notify.mark_read(store, g.api_user, case)
    return jsonify(note_json(case, cases.outcome(case)))


@bp.route("/api/v1/notes/<public_id>/withdraw", methods=["POST"])
@requires("volunteer")
def withdraw_note(public_id: str):
    """Withdraw the volunteer's own note with a reason, while nothing on it is decided."""
    case = readable_or_404(public_id)
    data = body()
    try:
        messages.withdraw(db.session(), case, g.api_user, optional_str(data, "reason"))
    except cases.CaseError as exc:
        fail_case(exc)
    return jsonify(id=case.public_id, status=case.status)


@bp.route("/api/v1/cases/<public_id>/messages", methods=["POST"])
@requires("caseworker", "volunteer")
def post_message(public_id: str):
    """A caseworker asks the volunteer; the case's volunteer answers or adds information."""
    case = case_or_404(public_id) if g.api_user.role == "caseworker" else readable_or_404(public_id)
    data = body()
    try:
        row = messages.post(db.session(), case, g.api_user, optional_str(data, "text"))
    except cases.CaseError as exc:
        fail_case(exc)
    return jsonify(**message_json(row), status=case.status), 201


@bp.route("/api/v1/queue")
@requires("caseworker")
def queue():
    """List cases a page at a time: ?q=&area=&status=&assigned=me|none|USERNAME&sort=&page=."""
    for name in ("area", "status", "sort", "page", "assigned"):
        if request.args.get(name) == "":  # the page's filter form sends "" for "all"; the API leaves it out
            fail(400, f"{name} must not be empty: leave it out for the default")
    args = request.args
    store = db.session()
    try:
        query = queues.parse(args.get("q"), args.get("area"), args.get("status"),
                             args.get("assigned"), args.get("sort"), args.get("page"))
        page = queues.find(store, g.api_user, query, current_app.config["QUEUE_PAGE_SIZE"])
    except cases.CaseError as exc:
        fail_case(exc)
    audit.record_reads(store, g.api_user, "queue.view", page.items)  # each row has an excerpt
    return jsonify(items=[queue_item_json(c, cases.top_suggestion(c)) for c in page.items],
                   next=page.next)


@bp.route("/api/v1/cases/<public_id>")
@requires("caseworker")
def get_case(public_id: str):
    """Return a case with its suggestions and decisions."""
    case = case_or_404(public_id)
    cases.record_view(db.session(), g.api_user, "case.view", case)
    return jsonify(case_json(case))


@bp.route("/api/v1/cases/<public_id>/decisions", methods=["POST"])
@requires("caseworker")
def decide(public_id: str):
    """Confirm or reject an entry for a case (an entry the engine missed is added)."""
    case = case_or_404(public_id)
    data = body()
    entry_id, decision = data.get("entry_id"), data.get("decision")
    if not isinstance(entry_id, str) or not entry_id:
        fail(400, "entry_id is required")
    try:
        row = cases.decide(db.session(), get_matcher(), case, g.api_user, entry_id, decision,
                           optional_str(data, "reason"))
    except cases.CaseError as exc:
        fail_case(exc)
    return jsonify(id=row.id, entry_id=entry_id, decision=row.decision,
                   status=case.status), 201


@bp.route("/api/v1/cases/<public_id>/close", methods=["POST"])
@requires("caseworker")
def close(public_id: str):
    """Close a case with a message to the volunteer, a reason for no action, or both."""
    case = case_or_404(public_id)
    data = body()
    try:
        cases.close(db.session(), case, g.api_user, optional_str(data, "message"),
                    optional_str(data, "reason"), optional_str(data, "reason_text"))
    except cases.CaseError as exc:
        fail_case(exc)
    return jsonify(id=case.public_id, status=case.status, reason=case.close_reason)


@bp.route("/api/v1/cases/<public_id>/reopen", methods=["POST"])
@requires("caseworker")
def reopen(public_id: str):
    """Open a closed case again; the reason is required."""
    case = case_or_404(public_id)
    data = body()
    try:
        cases.reopen(db.session(), case, g.api_user, optional_str(data, "reason"))
    except cases.CaseError as exc:
        fail_case(exc)
    return jsonify(id=case.public_id, status=case.status, reopened_at=case.reopened_at.isoformat())


@bp.route("/api/v1/cases/<public_id>/assign", methods=["POST"])
@requires("caseworker")
def assign(public_id: str):
    """Give a case to a caseworker ({"to": USERNAME}) or back to the queue ({"to": null})."""
    case = case_or_404(public_id)
    data = body()
    if "to" not in data:
        fail(400, "to is required: a caseworker's username, or null for back to the queue")
    to = optional_str(data, "to")
    try:
        cases.assign(db.session(), case, g.api_user, to)
    except cases.CaseError as exc:
        fail_case(exc)
    return jsonify(id=case.public_id,
                   assigned_to=case.assigned_to.username if case.assigned_to else None)


@bp.route("/api/v1/rules")
@requires("caseworker")
def rules():
    """Search the corpus (rules and services) by keywords: ?q=...&limit=..."""
    query = request.args.get("q", "").strip()
    if not query:
        fail(400, "q is required")
    limit = request.args.get("limit", "20")
    if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= 100):
        fail(400, "limit must be a whole number between 1 and 100")
    return jsonify(items=[entry_json(e) for e in get_matcher().search(query, limit=int(limit))])


INSIGHTS_ERRORS = {
    "bad_date": "from and to must be dates as YYYY-MM-DD",
    "bad_period": "from must not be after to",
    "period_too_long": "the period must be at most five years",
    "bad_area": "area must be one of: ældre, flygtning, andet",
    "bad_organisation": "organisation must be an organisation's numeric id",
}


@bp.route("/api/v1/insights")
@requires("leader", "caseworker", "admin")
def insights():
    """The overview's aggregates; a count below INSIGHTS_MIN_COUNT is the string "<N"."""
    store = db.session()
    # The page's form sends an emptied field as blank (meaning the default); the API says so.
    blank = next((name for name, value in request.args.items() if not value.strip()), None)
    if blank is not None:
        fail(400, f"{blank[:40]} is empty: leave it out for the default")
    try:
        filters = insight_metrics.parse_filters(request.args, utcnow().date())
    except insight_metrics.InsightsError as exc:
        fail(400, INSIGHTS_ERRORS[exc.code])
    report = insight_metrics.build_report(store, filters, insight_threshold())
    if not report.offered:
        fail(422, "too few cases in this selection to publish numbers without singling anyone "
                  "out; choose a longer period or fewer filters")
    audit.record(store, g.api_user, "insights.view")
    store.commit()
    return jsonify(report.to_json())

"""The overview's pages: the charts with their tables, and a CSV file of every table.

Open to leaders, caseworkers and admins. Nothing here reads a case's text, excerpts,
messages or wishes' words: only aggregates through `metrics.build_report`.
"""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import format_date
from flask_login import current_user

from .. import audit, db
from ..security import require_role
from . import charts, metrics

bp = Blueprint("insights", __name__, url_prefix="/insights")
#: Who sees the overview: the leaders (only this), and the municipality's staff.
ROLES = ("leader", "caseworker", "admin")
bp.before_request(require_role(*ROLES))


def threshold() -> int:
    """The smallest published count (INSIGHTS_MIN_COUNT, never below 2)."""
    return max(2, int(current_app.config["INSIGHTS_MIN_COUNT"]))


def report_for(args) -> metrics.Report:
    """Build the report for the request's filters; raises metrics.InsightsError."""
    today = datetime.now(UTC).date()
    return metrics.build_report(db.session(), metrics.parse_filters(args, today), threshold())


def period_label(per: str):
    """Return a function that names a bar's period in the page's language."""
    def label(value: str) -> str:
        day = datetime.fromisoformat(value).date()
        return format_date(day, "MMM yy" if per == "month" else "d/M")
    return label


@bp.route("/")
def overview():
    """The overview for ?from=&to=&area=&organisation=."""
    store = db.session()
    options = metrics.filter_options(store, threshold())
    try:
        report = report_for(request.args)
    except metrics.InsightsError as exc:
        return render_template("insights/overview.html", report=None, error=exc.code,
                               options=options, args=request.args,
                               options_threshold=threshold()), 400
    audit.record(store, current_user, "insights.view")
    store.commit()
    return render_template("insights/overview.html", report=report, error=None, options=options,
                           args=request.args, charts=charts, options_threshold=threshold(),
                           period_label=period_label(report.filters.per))


@bp.route("/<table_id>.csv")
def export(table_id: str):
    """One table of the overview as CSV, with the same filters and suppression as the page."""
    try:
        report = report_for(request.args)
    except metrics.InsightsError:
        abort(400)
    if not report.offered:
        abort(404)
    table = report.table(table_id)
    if table is None:
        abort(404)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=table.columns, extrasaction="ignore",
                            lineterminator="\r\n")
    writer.writeheader()
    writer.writerows([{k: _cell(v) for k, v in row.items()} for row in table.rows])
    store = db.session()
    audit.record(store, current_user, "insights.export", table_id)
    store.commit()
    name = f"brobygger-{table_id}-{report.filters.start}-{report.filters.end}.csv"
    # A byte order mark, so that spreadsheet programs read æ, ø and å as UTF-8.
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _cell(value):
    """A CSV cell; text a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value

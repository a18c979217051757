"""Time the overview (Overblik) on PostgreSQL with 100,000 cases, a million suggestions.

    createdb -h 127.0.0.1 -U postgres bench_insights
    PYTHONPATH=$PWD python benchmarks/bench_insights.py \
        postgresql+psycopg://postgres@127.0.0.1:5432/bench_insights
    dropdb -h 127.0.0.1 -U postgres bench_insights

The database is migrated, filled with generated rows by SQL (seconds) and analysed; then
`build_report` runs for a year of cases and for the default 26 weeks, five times each, and the
median and slowest times are printed. The figure is recorded in docs/EVAL.md.
"""
from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from web import db as web_db
from web.insights import metrics

CASES = 100_000
SEED_SQL = """
INSERT INTO organisations (id, name, created_at)
  SELECT g, 'Organisation ' || g, now() FROM generate_series(1, 6) g;
INSERT INTO users (id, username, password_hash, role, organisation_id, active, answers_wishes, created_at)
  SELECT g, 'vol' || g, '!unset', 'volunteer', g, true, false, now() FROM generate_series(1, 6) g;
INSERT INTO users (id, username, password_hash, role, active, answers_wishes, created_at)
  VALUES (7, 'cw', '!unset', 'caseworker', true, true, now());
INSERT INTO cases (public_id, organisation_id, created_by_id, text, area, consent, consent_at,
                   status, created_at, updated_at, closed_at, closed_by_id, message)
  SELECT 'B-' || g, 1 + g % 6, 1 + g % 6, 'generated', (ARRAY['ældre','flygtning','andet'])[1 + g % 3],
         true, t, CASE WHEN g % 10 < 8 THEN 'closed' WHEN g % 10 = 8 THEN 'in_review' ELSE 'pending' END,
         t, t, CASE WHEN g % 10 < 8 THEN t + (g % 200) * interval '1 hour' END,
         CASE WHEN g % 10 < 8 THEN 7 END, CASE WHEN g % 10 < 7 THEN 'Tak.' END
  FROM (SELECT g, now() - (g % 365) * interval '1 day' - (g % 1440) * interval '1 minute' AS t
        FROM generate_series(1, :cases) g) s;
INSERT INTO suggestions (case_id, entry_id, kind, law, section, title, rank, score, evidence,
                         legal_basis, engine_version, origin, created_at)
  SELECT c.id, 'entry-' || ((c.id * 7 + r * 13) % 240), 'rule', 'LAS', '§ ' || r, 'Title ' || r,
         r, 1.0 / r, '[]', '[]', CASE WHEN c.id % 2 = 0 THEN 'v1' ELSE 'v2' END, 'engine', c.created_at
  FROM cases c, generate_series(1, 10) r;
INSERT INTO decisions (case_id, suggestion_id, decision, user_id, created_at)
  SELECT s.case_id, s.id, CASE WHEN (s.case_id + s.rank) % 3 = 0 THEN 'reject' ELSE 'confirm' END,
         7, s.created_at + interval '30 hours'
  FROM suggestions s WHERE s.rank <= 2 AND s.case_id % 10 < 9;
UPDATE suggestions s SET decision = d.decision FROM decisions d WHERE d.suggestion_id = s.id;
UPDATE cases c SET first_decision_at = c.created_at + interval '30 hours' WHERE c.id % 10 < 9;
INSERT INTO wishes (organisation_id, created_by_id, kind, text, created_at)
  SELECT 1 + g % 6, 1 + g % 6, (ARRAY['lokaler','økonomi','viden','samarbejde','andet'])[1 + g % 5],
         'generated', now() - (g % 365) * interval '1 day' FROM generate_series(1, 500) g;
"""


def main(url: str) -> None:
    """Seed the empty database at `url` and time the report."""
    engine = web_db.make_engine(url)
    web_db.upgrade(engine)
    started = time.perf_counter()
    with engine.begin() as connection:
        if connection.scalar(text("SELECT count(*) FROM cases")) == 0:
            for statement in SEED_SQL.split(";\n"):
                if statement.strip():
                    connection.execute(text(statement), {"cases": CASES})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
        counts = {t: connection.scalar(text(f"SELECT count(*) FROM {t}"))
                  for t in ("cases", "suggestions", "decisions", "wishes")}
    print(f"seeded in {time.perf_counter() - started:.1f} s: {counts}")
    today = datetime.now(UTC).date()
    for name, filters in (
            ("a year, all areas", metrics.Filters(today - timedelta(days=365), today)),
            ("26 weeks (default)", metrics.parse_filters({}, today)),
            ("a year, one area and organisation",
             metrics.Filters(today - timedelta(days=365), today, "flygtning", 2))):
        times = []
        for _ in range(5):
            with Session(engine) as session:
                begin = time.perf_counter()
                report = metrics.build_report(session, filters, 5)
                times.append(time.perf_counter() - begin)
        assert report.offered
        print(f"{name}: median {statistics.median(times):.3f} s, slowest {max(times):.3f} s "
              f"({report.section('received').figures['cases']} cases)")
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         "postgresql+psycopg://postgres@127.0.0.1:5432/bench_insights")

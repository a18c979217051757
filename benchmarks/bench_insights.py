"""Time the overview (Overblik) on PostgreSQL with 100,000 cases and a million suggestions.

    PYTHONPATH=$PWD nice -n 15 python benchmarks/bench_insights.py \
        postgresql+psycopg://postgres@127.0.0.1:5432/test

The benchmark works in a schema of its own (`bench_insights`, created empty, dropped at the end
unless --keep), so it never touches other tables in the database. The schema is migrated to
head (web/migrations), filled with generated rows by SQL and analysed; then `build_report` runs
for a year of cases, for the default 26 weeks and for one area and organisation, five times each,
and the median and slowest times are printed. The figure is recorded in docs/EVAL.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from pg_schema import own_schema
from web import db as web_db
from web.insights import metrics

CASES = 100_000
SCHEMA = "bench_insights"
# 80 % closed (70 % with a message; a deadline of 28 days, some closed after it), 5 % withdrawn,
# the rest open; one in five cases gets a question (three in four answered); ten engine
# suggestions each, two decided on 90 % of cases.
SEED_SQL = """
INSERT INTO organisations (id, name, created_at)
  SELECT g, 'Organisation ' || g, now() FROM generate_series(1, 6) g;
INSERT INTO users (id, username, password_hash, role, organisation_id, active, answers_wishes, created_at)
  SELECT g, 'vol' || g, '!unset', 'volunteer', g, true, false, now() FROM generate_series(1, 6) g;
INSERT INTO users (id, username, password_hash, role, active, answers_wishes, created_at)
  VALUES (7, 'cw', '!unset', 'caseworker', true, true, now());
INSERT INTO cases (public_id, organisation_id, created_by_id, text, area, consent, consent_at,
                   status, created_at, updated_at, closed_at, closed_by_id, message,
                   first_decision_at, first_answer_at, withdrawn_at, due_at, waiting_since)
  SELECT 'B-' || g, 1 + g % 6, 1 + g % 6, 'generated', (ARRAY['ældre','flygtning','andet'])[1 + g % 3],
         true, t,
         CASE WHEN g % 20 < 16 THEN 'closed' WHEN g % 20 = 16 THEN 'withdrawn'
              WHEN g % 20 = 17 THEN 'waiting' WHEN g % 20 = 18 THEN 'in_review' ELSE 'pending' END,
         t, t, CASE WHEN g % 20 < 16 THEN t + (g % 900) * interval '1 hour' END,
         CASE WHEN g % 20 < 16 THEN 7 END, CASE WHEN g % 20 < 14 THEN 'Tak.' END,
         CASE WHEN g % 10 < 9 THEN t + (g % 50 + 1) * interval '1 hour' END,
         CASE WHEN g % 10 < 9 THEN t + (g % 40 + 1) * interval '1 hour' END,
         CASE WHEN g % 20 = 16 THEN t + interval '2 days' END, t + interval '28 days',
         CASE WHEN g % 20 = 17 THEN t + interval '5 hours' END
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
UPDATE cases c SET engine_version = CASE WHEN c.id % 2 = 0 THEN 'v1' ELSE 'v2' END, top5_shown = 5,
                   top1_confirmed = (c.id % 10 < 9 AND (c.id + 1) % 3 <> 0),
                   top5_confirmed = CASE WHEN c.id % 10 < 9
                                    THEN ((c.id + 1) % 3 <> 0)::int + ((c.id + 2) % 3 <> 0)::int ELSE 0 END;
INSERT INTO messages (case_id, user_id, from_role, kind, text, created_at)
  SELECT c.id, 7, 'caseworker', 'question', 'generated', c.created_at + interval '5 hours'
  FROM cases c WHERE c.id % 5 = 0;
INSERT INTO messages (case_id, user_id, from_role, kind, text, created_at)
  SELECT c.id, c.created_by_id, 'volunteer', 'answer', 'generated', c.created_at + interval '20 hours'
  FROM cases c WHERE c.id % 5 = 0 AND c.id % 20 <> 0;
INSERT INTO wishes (organisation_id, created_by_id, kind, text, created_at)
  SELECT 1 + g % 6, 1 + g % 6, (ARRAY['lokaler','økonomi','viden','samarbejde','andet'])[1 + g % 5],
         'generated', now() - (g % 365) * interval '1 day' FROM generate_series(1, 500) g;
"""


def main(url: str, keep: bool) -> None:
    """Seed a fresh schema at `url` and time the report."""
    with own_schema(url, SCHEMA, keep=keep) as scoped:
        _measure(web_db.make_engine(scoped))


def _measure(engine) -> None:
    """Migrate, seed and time the report on `engine` (a schema of its own)."""
    try:
        web_db.upgrade(engine)
        started = time.perf_counter()
        with engine.begin() as connection:
            for statement in SEED_SQL.split(";\n"):
                if statement.strip():
                    connection.execute(text(statement), {"cases": CASES})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # As autovacuum leaves a table after bulk inserts: statistics and the visibility map
            # (which lets the partial index on decided suggestions answer without the table).
            connection.execute(text("VACUUM ANALYZE"))
            counts = {t: connection.scalar(text(f"SELECT count(*) FROM {t}"))
                      for t in ("cases", "suggestions", "decisions", "messages", "wishes")}
        print(f"seeded in {time.perf_counter() - started:.1f} s: {counts}")
        # The machine is shared: the load says how much of it the figures below had.
        print("load average (1, 5, 15 min): " + ", ".join(f"{v:.1f}" for v in os.getloadavg())
              + f" on {os.cpu_count()} cores")
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
    finally:
        engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", nargs="?", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep", action="store_true", help="keep the schema for a second look")
    args = parser.parse_args()
    main(args.url, args.keep)

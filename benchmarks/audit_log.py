"""The admin's audit log with many rows: a filtered page, a deep page and the CSV export.

    .venv/bin/python benchmarks/audit_log.py [--events 1000000] [--database-url URL]

Fills a fresh store (SQLite in a temporary folder, or a PostgreSQL URL: a throwaway schema is
created in it and dropped afterwards) with N audit events spread over a year the way a
busy installation writes them (70 % queue rows, 15 % case reads, logins, decisions, a rare
user, a rare action, 50,000 cases), migrated by the app's own migrations (so with the indexes
of 0013_audit_idx). Then times `web.auditlog.page` for each filter the page offers, alone and
combined, the tenth page of a busy filter (keyset, following the page's own `older` keys),
and the export of one case's events. Each figure is the median of 5 runs after one warm-up;
for each filter also how the database reads it (the index; on PostgreSQL its own time).
Writes benchmarks/results/audit-log-<backend>.json and prints a Markdown table.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from pg_schema import own_schema  # noqa: E402
from web import auditlog, create_app  # noqa: E402
from web import db as web_db  # noqa: E402
from web.accounts import create_user  # noqa: E402
from web.models import AuditEvent  # noqa: E402

USERS = 50
CASES = 50_000
START = datetime(2025, 12, 1, tzinfo=UTC)


def _ref(n: int) -> str:
    chars = f"{n:016d}"
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


def _row(i: int, user_ids: list[int], rare: int) -> dict:
    share = i % 100
    action = ("user.reset" if i % 10_000 == 5 else "queue.view" if share < 70 else "case.view" if share < 85 else
              "note.list" if share < 90 else "login" if share < 93 else
              "case.confirm" if share < 96 else "note.submit")
    ref = _ref((i * 104_729) % CASES)
    return {"user_id": rare if i % 50_000 == 7 else user_ids[(i * 7919) % len(user_ids)],
            "action": action,
            "target": None if action == "login" else f"{ref} servicelov-83" if action == "case.confirm" else ref,
            "created_at": START + timedelta(seconds=31.5 * i)}


def fill(app, n: int) -> dict:
    """N events; returns names the filters use."""
    with app.app_context():
        store = web_db.session()
        users = [create_user(store, f"cw{k}", "caseworker", "korrekt-hest-batteri") for k in range(USERS)]
        rare = create_user(store, "sjaelden", "caseworker", "korrekt-hest-batteri")
        store.commit()
        ids = [u.id for u in users]
        for start in range(0, n, 20_000):
            store.execute(insert(AuditEvent), [_row(i, ids, rare.id)
                                                for i in range(start, min(n, start + 20_000))])
            store.commit()
        if store.bind.dialect.name == "postgresql":
            store.execute(text("ANALYZE audit_events"))
        else:
            store.execute(text("ANALYZE"))
        store.commit()
    middle = (START + timedelta(seconds=31.5 * n / 2)).date()
    return {"busy_user": "cw3", "rare_user": "sjaelden", "case": _ref((12_345 * 104_729) % CASES),
            "week": (middle.isoformat(), (middle + timedelta(days=6)).isoformat())}


def _median(fn, runs: int = 5) -> float:
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def _plan(store, filters) -> dict:
    """How the database reads the first page's query (the statement `auditlog.page` runs):
    the indexes it uses and, on PostgreSQL, its own execution time (EXPLAIN ANALYZE), which
    other jobs on the machine slow less than the Python around it."""
    clauses = auditlog._where(store, filters)
    statement = (select(AuditEvent).where(*clauses).order_by(*auditlog.NEWEST_FIRST)
                 .limit(auditlog.PAGE_SIZE + 1))
    dialect = store.bind.dialect
    sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    if dialect.name == "postgresql":
        plan = store.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)).scalar()[0]
        names, stack = [], [plan["Plan"]]
        while stack:
            node = stack.pop()
            # Index scans and bitmap index scans (whose nodes do not name the table).
            if node.get("Index Name", "").endswith(("audit_events", "_time", "_created_at")):
                names.append(node["Index Name"])
            stack.extend(node.get("Plans", []))
        return {"server_ms": round(plan["Execution Time"], 2), "plan": ", ".join(names) or "seq scan"}
    rows = store.execute(text("EXPLAIN QUERY PLAN " + sql)).all()
    return {"plan": "; ".join(r[-1] for r in rows if "audit_events" in r[-1])}


def measure(app, names: dict) -> list[dict]:
    week_from, week_to = names["week"]
    cases = [
        ("newest page, no filter", {}),
        ("busy user", {"who": names["busy_user"]}),
        ("rare user (1 in 50,000 events)", {"who": names["rare_user"]}),
        ("rare action (user.reset, 1 in 10,000)", {"action": "user.reset"}),
        ("one case", {"case": names["case"]}),
        ("one week", {"from": week_from, "to": week_to}),
        ("busy user + case.view + week", {"who": names["busy_user"], "action": "case.view",
                                          "from": week_from, "to": week_to}),
        ("busy user + one case", {"who": names["busy_user"], "case": names["case"]}),
        # a caseworker types the beginning of a reference (migration 0014's prefix index)
        ("a reference's beginning (10 cases)", {"case": names["case"][:-1]}),
        ("a reference's beginning (100 cases)", {"case": names["case"][:-2]}),
    ]
    results = []
    with app.test_request_context():
        store = web_db.session()
        for label, args in cases:
            filters = auditlog.parse(args)
            shown = []

            def one_page(filters=filters, shown=shown):
                shown[:] = [len(auditlog.page(store, filters).events)]
            results.append({"query": label, "ms": round(_median(one_page), 2), "rows": shown[0],
                            **_plan(store, filters)})

        filters = auditlog.parse({"action": "queue.view"})

        def tenth_page():
            page = auditlog.page(store, filters)
            for _ in range(9):
                page = auditlog.page(store, filters, before=auditlog.key_event(store, page.older))
        results.append({"query": "10th page of queue.view (10 pages read)",
                        "ms": round(_median(tenth_page, runs=3), 2), "rows": auditlog.PAGE_SIZE})

        case = auditlog.parse({"case": names["case"]})
        exported = []

        def export():
            exported[:] = ["".join(auditlog.export_rows(store, case)).count("\n") - 1]
        results.append({"query": "CSV export of one case", "ms": round(_median(export), 2),
                        "rows": exported[0]})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL URL; a throwaway schema is made in it (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        folder = Path(tmp)
        if args.database_url:
            url = stack.enter_context(own_schema(args.database_url, f"bench_audit_{uuid.uuid4().hex[:8]}"))
        else:
            url = f"sqlite:///{folder / 'store.db'}"
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench",
                          "INSTANCE_DIR": str(folder / "instance"), "ARGON2_TIME_COST": 1,
                          "ARGON2_MEMORY_COST": 64, "LEARN_FROM_DECISIONS": False,
                          "MATCHER": object()})
        web_db.upgrade(app.extensions["db_engine"])
        t0 = time.perf_counter()
        names = fill(app, args.events)
        fill_s = time.perf_counter() - t0
        backend = app.extensions["db_engine"].dialect.name
        results = measure(app, names)
        app.extensions["db_engine"].dispose()
    out = ROOT / "benchmarks" / "results" / f"audit-log-{backend}.json"
    out.write_text(json.dumps({"backend": backend, "events": args.events, "fill_seconds": round(fill_s, 1),
                               "page_size": auditlog.PAGE_SIZE, "date": date.today().isoformat(),
                               "results": results}, indent=2) + "\n")
    print(f"{args.events:,} audit events on {backend} (page of {auditlog.PAGE_SIZE}, median of 5):\n")
    print("| query | rows | ms (app) | ms (database) | read by |\n| --- | ---: | ---: | ---: | --- |")
    for r in results:
        print(f"| {r['query']} | {r['rows']} | {r['ms']} | {r.get('server_ms', '')} | {r.get('plan', '')} |")


if __name__ == "__main__":
    main()

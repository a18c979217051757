"""The caseworker's queue at 100,000 cases on PostgreSQL: first page, filters, deep keyset pages, search.

    .venv/bin/python benchmarks/bench_queue.py [--cases 100000] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Fills a schema of its own (dropped afterwards) through the app's migrations with N cases (texts
cycled from rules/training/notes.jsonl, three areas, open and closed, a tenth assigned to each of
five caseworkers, receipts spread over a year, two suggestions each), runs ANALYZE, then times
what the queue page and GET /api/v1/queue run (`web.queue.find`, a page of QUEUE_PAGE_SIZE=50 with
its suggestions): each query 20 times, median and 95th percentile. Writes
benchmarks/results/queue-<cases>.json and prints a Markdown table for docs/EVAL.md.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pg_schema import own_schema  # noqa: E402
from web import create_app  # noqa: E402
from web import db as web_db  # noqa: E402
from web import queue as queues  # noqa: E402
from web.accounts import create_user  # noqa: E402
from web.models import Case, Suggestion, User, new_public_id  # noqa: E402

REPEATS = 20
PAGE = 50


def fill(app, n: int) -> str:
    """N cases and 2N suggestions by bulk insert; returns one existing reference."""
    notes = [json.loads(line)["text"] for line in
             (ROOT / "rules/training/notes.jsonl").read_text(encoding="utf-8").splitlines() if line]
    rng = random.Random(0)
    now = datetime.now(UTC)
    with app.app_context():
        store = web_db.session()
        vol = create_user(store, "vol", "volunteer", "korrekt-hest-batteri", "Røde Kors Aalborg")
        workers = [create_user(store, f"cw{i}", "caseworker", "korrekt-hest-batteri") for i in range(5)]
        store.commit()
        org, vol_id, worker_ids = vol.organisation_id, vol.id, [w.id for w in workers]
        reference = None
        for start in range(0, n, 5000):
            rows = []
            for i in range(start, min(n, start + 5000)):
                received = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
                area = rng.choice(("ældre", "flygtning", "andet"))
                closed = rng.random() < 0.7
                rows.append(dict(public_id=new_public_id(), organisation_id=org, created_by_id=vol_id,
                                 text=notes[i % len(notes)], area=area, consent=True, consent_at=received,
                                 status="closed" if closed else rng.choice(("pending", "in_review", "waiting")),
                                 created_at=received, updated_at=received, due_at=received + timedelta(days=28),
                                 assigned_to_id=rng.choice(worker_ids) if rng.random() < 0.5 else None,
                                 closed_at=received + timedelta(days=3) if closed else None,
                                 closed_by_id=worker_ids[0] if closed else None, waited_seconds=0))
            ids = store.execute(insert(Case).returning(Case.id), rows).scalars().all()
            reference = reference or rows[0]["public_id"]
            store.execute(insert(Suggestion), [
                dict(case_id=cid, entry_id=entry, kind="rule", title="-", rank=rank, score=0.5,
                     evidence=[], legal_basis=[], engine_version="bench", origin="engine", created_at=now)
                for cid in ids for rank, entry in ((1, "sel-83"), (2, "æl-10"))])
            store.commit()
        store.execute(text("ANALYZE"))
        store.commit()
        return reference


def timed(app, user_name: str, **params) -> tuple[float, float, int]:
    """Median and p95 in ms of `queue.find` for these parameters, and the page's length."""
    with app.app_context():
        store = web_db.session()
        user = store.scalar(select(User).where(User.username == user_name))
        query = queues.parse(**params)
        found = queues.find(store, user, query, PAGE)  # warm the plan and the cache
        times = []
        for _ in range(REPEATS):
            store.expunge_all()
            start = time.perf_counter()
            found = queues.find(store, user, query, PAGE)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        return statistics.median(times), times[int(0.95 * (len(times) - 1))], len(found.items)


def deep_page(app, pages: int) -> str:
    """The `page` value after following `next` this many times (deadline order, open cases)."""
    with app.app_context():
        store = web_db.session()
        user = store.scalar(select(User).where(User.username == "cw0"))
        token = None
        for _ in range(pages):
            token = queues.find(store, user, queues.parse(page=token), PAGE).next
        return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with own_schema(args.url, f"bench_queue_{uuid.uuid4().hex[:8]}") as url, \
            tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_DIR": tmp,
                          "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 64})
        web_db.upgrade(app.extensions["db_engine"])
        started = time.perf_counter()
        reference = fill(app, args.cases)
        fill_s = time.perf_counter() - started
        page10 = deep_page(app, 10)
        rows = [
            ("first page, deadline order", dict()),
            ("received order", dict(sort="received")),
            ("area + unassigned", dict(area="ældre", assigned="none")),
            ("my cases", dict(assigned="me")),
            ("all statuses, by status", dict(status="all", sort="status")),
            ("page 11 (keyset)", dict(page=page10)),
            ("search: words", dict(q="madservice", status="all")),
            ("search: reference", dict(q=reference[:9], status="all")),
        ]
        results = []
        for label, params in rows:
            median, p95, count = timed(app, "cw0", **params)
            results.append({"query": label, "params": {k: v for k, v in params.items() if k != "page"},
                            "median_ms": round(median, 2), "p95_ms": round(p95, 2), "rows": count})
        app.extensions["db_engine"].dispose()
    out = {"cases": args.cases, "fill_seconds": round(fill_s, 1), "page_size": PAGE, "repeats": REPEATS,
           "database": "PostgreSQL", "results": results}
    folder = ROOT / "benchmarks" / "results"
    folder.mkdir(exist_ok=True)
    (folder / f"queue-{args.cases}.json").write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"{args.cases:,} cases (filled in {fill_s:.0f} s), pages of {PAGE}, {REPEATS} runs each\n")
    print("| query | median | p95 | rows |\n| --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['query']} | {r['median_ms']:.1f} ms | {r['p95_ms']:.1f} ms | {r['rows']} |")


if __name__ == "__main__":
    main()

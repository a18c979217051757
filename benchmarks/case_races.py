"""Concurrent closes and decisions on one case, through a real server (issue 11, section 4).

    PYTHONPATH=. .venv/bin/python benchmarks/case_races.py [--trials 30] [--database-url URL]

Serves the app with waitress (8 threads) on a free port, on a fresh SQLite file by default or on
the PostgreSQL URL given (its tables are created by the migrations and dropped at the end). Each
trial submits one note, then six threads start together: three caseworkers close the case and
three confirm one of its suggestions. Counts, over the trials, what must never happen:

- more than one close answered 200;
- the case not closed at the end although a close answered 200 ("back in review");
- a decision stored after the case was closed (its audit event after the close's), or a decision
  answered 201 that is not in the store, or one stored that was refused;
- status and closed_at disagreeing;
- any answer other than 200/201/409, or a 409 without a JSON {"error"} message.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import urllib.request
from collections import Counter
from pathlib import Path

import waitress
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matcher import Matcher, Settings  # noqa: E402
from web import create_app  # noqa: E402
from web import db as web_db  # noqa: E402
from web.accounts import create_user  # noqa: E402
from web.cases import submit_note  # noqa: E402
from web.models import AuditEvent, Case, Decision, User  # noqa: E402

PASSWORD = "korrekt-hest-batteri-staldør"
NOTE = ("Min nabo er 84 år og falder ofte i badet. Hun kan ikke selv lave mad længere. "
        "Hun har ingen penge til medicin.")
CASEWORKERS = ("cw1", "cw2", "cw3")


def call(base: str, method: str, path: str, body: dict | None = None, token: str | None = None):
    """Send one JSON request; return (status, parsed body or None)."""
    request = urllib.request.Request(base + path, method=method,
                                     data=json.dumps(body or {}).encode(),
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


def serve(app) -> tuple[str, waitress.server.BaseWSGIServer]:
    """Start waitress on a free port in a daemon thread; return its base URL and the server."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}", server


def setup(app) -> None:
    """Migrate the store and add a volunteer and three caseworkers."""
    web_db.upgrade(app.extensions["db_engine"])
    with app.app_context():
        store = web_db.session()
        create_user(store, "vol", "volunteer", PASSWORD, "Røde Kors Aalborg")
        for name in CASEWORKERS:
            create_user(store, name, "caseworker", PASSWORD)
        store.commit()


def trial(app, base: str, tokens: list[str]) -> Counter:
    """One case, three closes and three decisions at once; return what went wrong (and right)."""
    with app.app_context():
        store = web_db.session()
        vol = store.scalar(select(User).where(User.username == "vol"))
        case = submit_note(store, app.extensions["matcher"], vol, NOTE, "ældre", True)
        ref, entries = case.public_id, [s.entry_id for s in case.suggestions][:3]
    barrier = threading.Barrier(6)
    answers: list[tuple[str, int, object]] = []

    def act(kind: str, token: str, entry: str | None):
        barrier.wait()
        if kind == "close":
            status, data = call(base, "POST", f"/api/v1/cases/{ref}/close", {"message": "Tak."}, token)
        else:
            status, data = call(base, "POST", f"/api/v1/cases/{ref}/decisions",
                                {"entry_id": entry, "decision": "confirm"}, token)
        answers.append((kind, status, data))

    threads = [threading.Thread(target=act, args=("close", t, None)) for t in tokens]
    threads += [threading.Thread(target=act, args=("decide", t, e)) for t, e in zip(tokens, entries, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    out: Counter = Counter()
    closes_ok = sum(1 for k, s, _ in answers if k == "close" and s == 200)
    decisions_ok = sum(1 for k, s, _ in answers if k == "decide" and s == 201)
    out["more than one close succeeded"] += closes_ok > 1
    out["no close succeeded"] += closes_ok == 0
    bad = [(k, s) for k, s, d in answers
           if s not in (200, 201, 409) or (s == 409 and not (isinstance(d, dict) and d.get("error")))]
    out["answers other than 200/201/409 with a message"] += bool(bad)
    with app.app_context():
        store = web_db.session()
        case = store.scalar(select(Case).where(Case.public_id == ref))
        rows = list(store.scalars(select(Decision).where(Decision.case_id == case.id)))
        out["closed case back in review"] += closes_ok > 0 and case.status != "closed"
        out["status and closed_at disagree"] += (case.status == "closed") != (case.closed_at is not None)
        # Audit events are written in each change's own transaction, after its claim on the
        # case, so their order is the order in which the changes took effect.
        events = list(store.execute(select(AuditEvent.id, AuditEvent.action)
                                    .where(AuditEvent.target.startswith(ref)).order_by(AuditEvent.id)))
        first_close = next((i for i, (_, action) in enumerate(events) if action == "case.close"), len(events))
        out["decisions stored after closing"] += any(a == "case.confirm" for _, a in events[first_close:])
        out["decisions answered 201 != decisions stored"] += len(rows) != decisions_ok
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/races.db"
        matcher = Matcher.load(Settings.from_env({}, encoder="hashing", index_dir=Path(tmp) / "idx"))
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "races", "INSTANCE_DIR": f"{tmp}/instance",
                          "MATCHER": matcher, "LEARN_FROM_DECISIONS": False, "LOGIN_RATE_LIMIT": "1000 per minute",
                          "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 64})
        setup(app)
        base, server = serve(app)
        tokens = [call(base, "POST", "/api/v1/auth/token", {"username": n, "password": PASSWORD})[1]["token"]
                  for n in CASEWORKERS]
        total: Counter = Counter()
        for _ in range(args.trials):
            total.update(trial(app, base, tokens))
        server.close()
        if args.database_url:
            web_db.downgrade(app.extensions["db_engine"], "base")
        app.extensions["db_engine"].dispose()
    names = ["closed case back in review", "more than one close succeeded", "decisions stored after closing",
             "status and closed_at disagree", "decisions answered 201 != decisions stored",
             "answers other than 200/201/409 with a message", "no close succeeded"]
    print(f"{args.trials} trials, {make_label(url)}: 3 concurrent closes + 3 decisions on one case")
    for name in names:
        print(f"  {name}: {total[name]}/{args.trials}")


def make_label(url: str) -> str:
    """The database kind, without credentials."""
    return url.split(":", 1)[0].split("+")[0]


if __name__ == "__main__":
    main()

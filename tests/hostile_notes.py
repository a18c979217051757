"""Hostile notes: combining marks, invisible characters, endless words and sentences (issue 11, § 5).

One list for the test that the engine's work stays bounded whatever a note holds
(tests/test_hostile_notes.py) and for the benchmarks that time such notes
(benchmarks/hostile_notes.py, benchmarks/healthz_under_hostile_notes.py). Each is at most
LIMIT characters, what the web app accepts.
"""
from __future__ import annotations

LIMIT = 5000

HOSTILE = {
    "one letter and 4,999 combining accents": "a" + "\u0301" * (LIMIT - 1),
    "2,500 decomposed é": "e\u0301" * (LIMIT // 2),
    "words under five accents each (zalgo)": ("he\u0301\u0302\u0303\u0304llo " * 500)[:LIMIT],
    "one letter and 4,999 zero-width spaces": "a" + "\u200b" * (LIMIT - 1),
    "one word of 5,000 letters": "a" * LIMIT,
    "5,000 characters, no sentence end": ("hun kan ikke selv lave mad og falder ofte i badet " * 100)[:LIMIT],
    "2,500 one-letter words": "a " * (LIMIT // 2),
    "1,666 one-letter sentences": "a. " * (LIMIT // 3),
    "5,000 CJK characters": "".join(chr(0x4E00 + i % 2000) for i in range(LIMIT)),
    "lone surrogates": "Hun falder ofte i badet \ud800 og kan ikke lave mad \udfff selv.",
}

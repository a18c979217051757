"""Splitting notes into sentences and words into stemmed keyword tokens."""
from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_DANISH, STOPWORDS_EN

from .names import without_names

# A sentence ends at . ! ? or a line break; "stk. 2", "f.eks." and "kl. 14.30" do not end one.
_NO_END = ("stk", "nr", "kl", r"f\.eks", "ca", r"bl\.a", "jf", "dvs", "mr", "mrs", "dr")
_ABBREV = "".join(rf"(?<!\b{a})" for a in _NO_END)
_SPLIT = re.compile(_ABBREV + r"(?<=[.!?])\s+|\s*\n+\s*|\s+-\s+(?=[A-ZÆØÅ])")
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_MIN_WORDS = 3

# Words that carry no topic in volunteers' notes (beyond the standard lists).
_EXTRA_STOP = {
    "hun", "han", "hendes", "hans", "der", "det", "har", "kan", "ikke", "meget", "lidt", "bare",
    "også", "nu", "så", "fordi", "men", "eller", "she", "he", "her", "his", "they", "their",
    "very", "just", "also", "now", "because", "but", "ogs", "lige", "helt", "rigtig", "fik",
}
STOPWORDS = frozenset(STOPWORDS_DANISH) | frozenset(STOPWORDS_EN) | _EXTRA_STOP


def sentences(text: str) -> list[str]:
    """Split a note into sentences; fragments of one or two words join their neighbour."""
    parts = [p.strip() for p in _SPLIT.split(text) if p and p.strip()]
    out: list[str] = []
    for part in parts:
        if out and len(_WORD.findall(part)) < _MIN_WORDS:
            out[-1] = f"{out[-1]} {part}"
        elif out and len(_WORD.findall(out[-1])) < _MIN_WORDS:
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("danish")


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop-word-free, Danish-stemmed word tokens; [NAVN n] placeholders give none."""
    words = [w for w in _WORD.findall(without_names(text).lower()) if w not in STOPWORDS]
    return _stemmer().stemWords(words)

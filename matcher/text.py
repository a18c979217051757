"""Splitting notes into sentences and words into stemmed keyword tokens, within bounds.

Whatever a note holds, the work of one match is bounded here: `clean` drops what carries no
meaning and costs the encoder a token each (format characters such as zero-width spaces,
surrogates, a pile of combining marks on one letter, a character repeated past MAX_REPEAT), and
`sentences` cuts a sentence longer than MAX_SENTENCE_CHARS at a space, so no query is longer than
that; the engine encodes at most 12 sentences and 1,200 characters of them (matcher.engine).
"""
from __future__ import annotations

import re
import unicodedata
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
#: Longest query the encoder is given (about 75 tokens of Danish, at most one per character).
MAX_SENTENCE_CHARS = 300
#: Combining marks kept on one base letter (Danish needs none after NFC, Vietnamese two).
MAX_MARKS = 2
#: A letter or sign repeated more often in a row is cut to this ("neeeej" stays, 5,000 é do not).
MAX_REPEAT = 4
_REPEATS = re.compile(rf"(\D)\1{{{MAX_REPEAT},}}")
_DROP_CATEGORIES = {"Cf", "Cs", "Co", "Cn"}  # format (zero-width), surrogate, private, unassigned
_MARKS = {"Mn", "Me"}

# Words that carry no topic in volunteers' notes (beyond the standard lists).
_EXTRA_STOP = {
    "hun", "han", "hendes", "hans", "der", "det", "har", "kan", "ikke", "meget", "lidt", "bare",
    "også", "nu", "så", "fordi", "men", "eller", "she", "he", "her", "his", "they", "their",
    "very", "just", "also", "now", "because", "but", "ogs", "lige", "helt", "rigtig", "fik",
}
STOPWORDS = frozenset(STOPWORDS_DANISH) | frozenset(STOPWORDS_EN) | _EXTRA_STOP


def clean(text: str) -> str:
    """The note as the encoder should see it: NFC, without format characters or surrogates, at most
    MAX_MARKS combining marks on a letter and MAX_REPEAT repeats of a character (digits keep
    theirs); an ordinary note comes back unchanged."""
    text = _REPEATS.sub(lambda m: m.group(1) * MAX_REPEAT, unicodedata.normalize("NFC", text))
    if text.isascii():
        return text
    out: list[str] = []
    marks = 0
    for ch in text:
        category = unicodedata.category(ch)
        if category in _DROP_CATEGORIES:
            continue
        if category in _MARKS:
            marks += 1
            if marks > MAX_MARKS or not out:
                continue
        else:
            marks = 0
        out.append(ch)
    return _REPEATS.sub(lambda m: m.group(1) * MAX_REPEAT, "".join(out))


def drop_invisible(text: str) -> str:
    """The text without format characters (zero-width spaces and joiners, soft hyphens, BOM) and
    lone surrogates: what no reader sees, but what can split a CPR number past its redaction."""
    if text.isascii():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cs"))


def has_words(text: str, words: int = _MIN_WORDS) -> bool:
    """Say whether the text holds at least `words` words of two letters or more (once cleaned)."""
    found = 0
    for _ in _WORD.finditer(clean(text)):
        found += 1
        if found >= words:
            return True
    return False


def _bounded(part: str) -> list[str]:
    """A sentence cut at spaces into pieces of at most MAX_SENTENCE_CHARS (hard cuts without one)."""
    pieces: list[str] = []
    while len(part) > MAX_SENTENCE_CHARS:
        cut = part.rfind(" ", 0, MAX_SENTENCE_CHARS + 1)
        cut = cut if cut > 0 else MAX_SENTENCE_CHARS
        pieces.append(part[:cut].strip())
        part = part[cut:].strip()
    return [p for p in (*pieces, part) if p]


def sentences(text: str) -> list[str]:
    """Split a note into sentences of at most MAX_SENTENCE_CHARS; fragments of one or two words join
    their neighbour while the two fit."""
    parts = [piece for p in _SPLIT.split(text) if p and p.strip() for piece in _bounded(p.strip())]
    out: list[str] = []
    counts: list[int] = []  # words of each sentence in out
    for part in parts:
        n = len(_WORD.findall(part))
        short = n < _MIN_WORDS or (out and counts[-1] < _MIN_WORDS)
        if out and short and len(out[-1]) + 1 + len(part) <= MAX_SENTENCE_CHARS:
            out[-1] = f"{out[-1]} {part}"
            counts[-1] += n
        else:
            out.append(part)
            counts.append(n)
    return out


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("danish")


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop-word-free, Danish-stemmed word tokens; [NAVN n] placeholders give none."""
    words = [w for w in _WORD.findall(without_names(text).lower()) if w not in STOPWORDS]
    return _stemmer().stemWords(words)

"""Facts about the citizen that a note states in passing (for now: age)."""
from __future__ import annotations

import re

#: Folkepensionsalderen for people reaching it in 2026-2030 (PL § 1 a); ÆL starts there.
PENSION_AGE = 67

# (pattern, multiplier): "i 80'erne" and "in her 70s" name a decade.
_AGE_PATTERNS = [
    (re.compile(r"\b(\d{2,3})\s*(?:år|års|aar|years?|yrs?|jahre)\b", re.I), 1),
    (re.compile(r"\b(\d{2,3})\s*-?\s*(?:årig|aarig|year-old|jährig)", re.I), 1),
    (re.compile(r"\b(?:på|aged|age|alder)\s+(\d{2,3})\b", re.I), 1),
    (re.compile(r"\b(?:han|hun|he|she|manden|kvinden|damen)\s+(?:er|is)\s+(\d{2,3})\b(?!\s*(?:kr|%))", re.I), 1),
    (re.compile(r"\bi\s+(?:start|midt|slut)?(?:en af )?(?:sine|hans|hendes)?\s*(\d)0['’]?erne\b", re.I), 10),
    (re.compile(r"\bin (?:his|her|their) (?:early |late |mid-)?(\d)0s\b", re.I), 10),
]
_CHILD = re.compile(
    r"\b(barn|børn|børnene|barnet|søn|sønnen|dreng\w*|pige\w*|baby|spædbarn|teenager|skolen|skole|"
    r"børnehave\w*|vuggestue\w*|child\w*|kids?|boy|girl|son|school|pupil)\b",
    re.I,
)
_YOUNG_AGE = re.compile(r"\b(\d{1,2})\s*(?:år|aar|years?|months?|måneder)\b|\b(\d{1,2})-årig", re.I)
_ELDERLY_WORDS = re.compile(r"\b(folkepension\w*|ældrecheck|pensionist\w*|plejehjem\w*|pensioner)\b", re.I)


def stated_age(text: str) -> int | None:
    """The highest plausible age stated in the note, or None.

    The citizen is usually the oldest person a volunteer mentions; "i 80'erne" counts as 80.
    """
    ages: list[int] = []
    for pattern, multiplier in _AGE_PATTERNS:
        for m in pattern.finditer(text):
            value = int(m.group(1)) * multiplier
            if 0 < value <= 110:
                ages.append(value)
    if ages:
        return max(ages)
    if _ELDERLY_WORDS.search(text) and "førtidspension" not in text.lower():
        return PENSION_AGE
    return None


def mentions_child(text: str) -> bool:
    """Whether the note is (also) about a child: a child word or an age under 18."""
    if _CHILD.search(text):
        return True
    return any(int(a or b) < 18 for a, b in _YOUNG_AGE.findall(text))

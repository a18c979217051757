"""Facts about the citizen that a note states in passing (for now: age)."""
from __future__ import annotations

import re

# A name as the note has it, or its placeholder once names are pseudonymised ("[NAVN 1]").
_NAME = r"(?:\[NAVN(?: \d+)?\]|\b[^\W\d]+)"

#: Folkepensionsalderen for people reaching it in 2026-2030 (PL § 1 a); ÆL starts there.
PENSION_AGE = 67

# Units after a number that make it something other than an age ("på 25 timer").
_NOT_YEARS = r"(?:kr|%|,-|timer|t\b|kilo|kg|dage|uger|min|m2|kvm)"
# "omkring 80", "ca. 80", "about 80": an age given roughly is still an age.
_ABOUT = r"(?:kun\s+|only\s+|omkring\s+|ca\.?\s+|cirka\s+|næsten\s+|over\s+|about\s+|around\s+|almost\s+)?"
_DASH = r"[-\u2010\u2011\u2012\u2013\u2014\u2212]"
# English decades written out: "in her seventies".
_DECADES = {"sixties": 6, "seventies": 7, "eighties": 8, "nineties": 9}
# (pattern, multiplier): "i 80'erne" and "in her 70s" name a decade.
_AGE_PATTERNS = [
    (re.compile(r"\b(\d{2,3})\s*(?:år|års|aar|years?|yrs?|jahre)\b", re.I), 1),
    # any dash a keyboard or phone writes: "72‑year‑old" with non-breaking hyphens is still an age
    (re.compile(r"\b(\d{2,3})\s*" + _DASH + r"?\s*(?:årig|aarig|year" + _DASH + r"?\s*old|years?\s+of\s+age|jährig)",
                re.I), 1),
    (re.compile(r"\b(?:på|aged|age|alder)\s+" + _ABOUT + r"(\d{2,3})\b(?!\s*" + _NOT_YEARS + ")", re.I), 1),
    (re.compile(r"\b(?:han|hun|he|she|manden|kvinden|damen)\s+(?:er|is|ist)\s+" + _ABOUT + r"(\d{2,3})\b"
                r"(?!\s*" + _NOT_YEARS + ")", re.I), 1),
    (re.compile(r"\bi\s+(?:start|midt|slut)?(?:en af )?(?:sine|hans|hendes)?\s*(\d)0['’]?erne\b", re.I), 10),
    (re.compile(r"\bin (?:his|her|their) (?:early |late |mid-)?(\d)0s\b", re.I), 10),
    # "turned 72", "fyldt 80", "a man of 72": the age after a verb or noun that only ages follow
    (re.compile(r"\b(?:turned|turns|turning|fyldt|fylder|fyldte|(?:man|woman|lady|gentleman|widow|widower)\s+of)\s+"
                + _ABOUT + r"(\d{2,3})\b(?!\s*" + _NOT_YEARS + ")", re.I), 1),
    # "[NAVN 1], 72, lives alone", "Karen, 81, bor": an age set off by commas after a name
    (re.compile(_NAME + r"\s*,\s*(\d{2,3})\s*,"), 1),
    # "Poul (86)", "Mr. Jensen (79)": the usual way to write an age after a name
    (re.compile(r"\(\s*(\d{2,3})\s*(?:år)?\s*[,)]"), 1),
    # "Fru Pedersen 83", "hr nielsen 90", "Fru [NAVN 2] 83"
    (re.compile(r"\b(?:fru|hr|mr|mrs|ms)\.?\s+" + _NAME + r"\s+(\d{2,3})\b(?!\s*(?:kr|%|,-))", re.I), 1),
    # "Fru Olesen er 80 og", "she's 81"
    (re.compile(r"\b(?:er|is|ist|'s)\s+" + _ABOUT + r"(\d{2,3})\b(?=\s*(?:og|and|und|,|\.|$|nu|now))", re.I), 1),
]
# "irma 77 er faldet": a bare number after a word and before a verb; only an old age counts,
# since clock times and counts look the same ("kl 10 er").
_LOOSE_AGE = re.compile(_NAME + r"\s+(\d{2})\s+(?:er|har|bor|kan|skal|var|is|has|lives|was|i dag|idag|today)\b", re.I)
_LOOSE_MIN = 60
_DECADE_WORDS = re.compile(r"\bin (?:his|her|their) (?:early |late |mid-)?(" + "|".join(_DECADES) + r")\b", re.I)
_CHILD = re.compile(
    r"\b(barn|børn|børnene|barnet|søn|sønnen|dreng\w*|pige\w*|baby|spædbarn|teenager|skolen|skole|"
    r"datter|døtre|datteren|døtrene|daughters?|"
    r"børnehave\w*|vuggestue\w*|child\w*|kids?|boy|girl|son|school|pupil)\b",
    re.I,
)
_YOUNG_AGE = re.compile(r"\b(\d{1,2})\s*(?:år|aar|years?|months?|måneder)\b|\b(\d{1,2})-årig", re.I)
_ELDERLY_WORDS = re.compile(
    r"\b(folkepension\w*|ældrecheck|pensionist\w*|plejehjem\w*|pensioner|pensioneret|retired|state pension|"
    r"(?:gået|gik|går|er) på pension)\b", re.I)


def stated_age(text: str) -> int | None:
    """The citizen's age as the note states it, or None.

    Volunteers name the citizen first ("Camilla er 32 ... hendes mor på 70"), so the first
    adult age counts; a note that states only children's ages gives the oldest child.
    "i 80'erne" counts as 80; "folkepensionist" without a number as the pension age.
    """
    found: list[tuple[int, int]] = []  # (position, age)
    for pattern, multiplier in _AGE_PATTERNS:
        for m in pattern.finditer(text):
            value = int(m.group(1)) * multiplier
            if 0 < value <= 110:
                found.append((m.start(1), value))
    found += [(m.start(1), 10 * _DECADES[m.group(1).lower()]) for m in _DECADE_WORDS.finditer(text)]
    found += [(m.start(1), int(m.group(1))) for m in _LOOSE_AGE.finditer(text)
              if _LOOSE_MIN <= int(m.group(1)) <= 110]
    if found:
        adults = [age for _, age in sorted(found) if age >= 18]
        return adults[0] if adults else max(age for _, age in found)
    if _ELDERLY_WORDS.search(text) and "førtidspension" not in text.lower():
        return PENSION_AGE
    return None


def mentions_child(text: str) -> bool:
    """Whether the note is (also) about a child: a child word or an age under 18."""
    if _CHILD.search(text):
        return True
    return any(int(a or b) < 18 for a, b in _YOUNG_AGE.findall(text))

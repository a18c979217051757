"""Pseudonymisation of person names: "Fru Jensen (88)" becomes "Fru [NAVN 1] (88)".

Danish writes nouns in lower case, so a capitalised word inside a sentence is usually a
proper noun; the gazetteers in matcher/data/ (places, organisations and services, laws,
weekdays, months, languages) say which proper nouns are not people. Name lists (Danish and
the main refugee groups) catch names at the start of a sentence and names written in lower
case ("besøgte aage idag"), where a relation or honorific ("naboen", "datteren", "fru")
also marks the next word as a name. A name that is also a common word ("Bo", "Rose",
"hans") counts only where it is capitalised inside a sentence or has such context.

Each person gets a number per note, so a caseworker can still tell two people apart; the
same name keeps its number. Existing placeholders are kept and new numbers follow them, so
running the function twice changes nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
PLACEHOLDER = "[NAVN {n}]"

_PLACEHOLDER = re.compile(r"\[(?:NAVN(?: (\d+))?|CPR|TELEFON|EMAIL)\]")
_TOKEN = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", re.UNICODE)
# A capitalised word after these starts a sentence; "hr." and "ca." do not end one.
_SENTENCE_END = re.compile(r"(?:[.!?:;\n•*]|\s-)[\s\"'“”«»()\[\]-]*$")
_ABBREV_END = re.compile(r"\b(?:hr|fr|frk|dr|mr|mrs|ms|st|ca|kl|stk|nr|jf|evt|bl\.a|f\.eks|mv|osv)\.\s*$", re.I)
_AGE_AFTER = re.compile(r"^(?:'s|s)?\s*\(\s*\d{1,3}\s*(?:år)?\s*[,)]|^\s*,\s*\d{2,3}\s*(?:år)?\s*,"
                        r"|^\s+(?:er|på|is)\s+\d{2,3}\b(?!\s*(?:kr|%|timer|kg|dage|uger|min))")

#: Words after which the next word is a person: honorifics (kept before the placeholder).
HONORIFICS = frozenset("fru frue hr herr dr doktor frk frøken mr mrs ms miss mister frau".split())
#: Relations and verbs of meeting after which a word is a person's name ("naboen Kaj", "besøgte aage").
RELATIONS = frozenset("""
    nabo naboen naboens naboerne genbo genboen datter datteren datterens døtrene søn sønnen sønnens
    sønnerne barnebarn barnebarnet barnebarnets oldebarn mand manden mandens kone konen konens hustru
    hustruen ægtefælle ægtefællen kæreste kæresten samlever samleveren veninde veninden venindens ven
    vennen bror broren broderen brorens søster søsteren søsterens mor moren morens mor far faren farens
    mormor morfar farmor farfar bedstemor bedstefar oldemor oldefar onkel onklen tante tanten moster
    mosteren faster fasteren morbror farbror fætter fætteren kusine kusinen nevø niece svigersøn
    svigerdatter svigermor svigerfar plejer hjælper hjælperen kontaktperson kontaktpersonen
    sagsbehandler sagsbehandleren frivillig frivillige lægen læge sygeplejersken sygeplejerske
    hjemmehjælperen familien familie pigen drengen
    besøgte besøger besøg hos ringede ringer ring snakkede snakker talte taler mødte møder hjalp
    hjælper hilste kørte fulgte
    neighbour neighbor daughter son husband wife grandson granddaughter grandchild mother father
    brother sister friend visited visiting met called phoned helped
    hedder named""".split())
# "det er lone fra ældresagen", "it's Tom": a volunteer introducing themselves or someone.
_INTRODUCTIONS = {("det", "er"), ("jeg", "er"), ("this", "is"), ("it's", ""), ("i'm", "")}
# Words that make the word after them a place, not a person ("bor i Vodskov", "from Eritrea").
_PLACE_BEFORE = frozenset("i fra til ved nær mod omkring syd nord øst vest in from to at near".split())
# Relation words that are also used before nouns; a lower-case common word after them stays.
_MAX_PASSES = 3


@dataclass(frozen=True)
class Lexicon:
    """The name lists and gazetteers, lower case, read once per process."""

    names: frozenset[str]
    common: frozenset[str]
    keep: frozenset[str]
    phrases: dict[str, tuple[tuple[str, ...], ...]]  # first word -> multi-word entries to keep


def _lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """Load matcher/data/ once (about 40,000 words)."""
    names = {w.lower() for f in ("first_names.txt", "surnames.txt", "names_refugee.txt") for w in _lines(f)}
    keep: set[str] = set()
    phrases: dict[str, list[tuple[str, ...]]] = {}
    for f in ("places.txt", "organisations.txt", "laws.txt", "other_words.txt"):
        for entry in _lines(f):
            words = tuple(w.lower() for w in _TOKEN.findall(entry))
            if len(words) == 1:
                keep.add(words[0])
            elif words:
                phrases.setdefault(words[0], []).append(words)
    return Lexicon(frozenset(names), frozenset(_lines("common_words.txt")), frozenset(keep),
                   {k: tuple(sorted(v, key=len, reverse=True)) for k, v in phrases.items()})


@dataclass
class _Token:
    start: int
    end: int
    text: str
    low: str
    base: str  # without a possessive s ("Ernas" -> "erna")
    suffix: str  # the possessive kept after the placeholder
    initial: bool  # first word of a sentence
    kept: bool = False  # a place, organisation or law
    phrase: bool = False  # part of a kept name of several words ("Aalborg Øst")
    plain: bool = False  # a lower-case common word that is no name: only an honorific changes that
    name: bool = False


def _base(word: str, lex: Lexicon) -> tuple[str, str]:
    low = word.lower()
    for suffix in ("'s", "’s", "'", "’", "s"):
        if low.endswith(suffix) and len(low) > len(suffix) + 2:
            stem = low[: -len(suffix)]
            if low not in lex.names and stem in lex.names:
                return stem, word[-len(suffix):]
    return low, ""


def _tokens(text: str, lex: Lexicon) -> list[_Token]:
    out: list[_Token] = []
    for m in _TOKEN.finditer(text):
        before = text[max(0, m.start() - 12): m.start()]
        initial = not out and not text[: m.start()].strip(" \t\"'“”«»([-\0") or (
            bool(_SENTENCE_END.search(before)) and not _ABBREV_END.search(before))
        base, suffix = _base(m.group(), lex)
        out.append(_Token(m.start(), m.end(), m.group(), m.group().lower(), base, suffix, initial))
    for i, tok in enumerate(out):
        for phrase in lex.phrases.get(tok.low, ()):
            if tuple(t.low for t in out[i: i + len(phrase)]) == phrase:
                for t in out[i: i + len(phrase)]:
                    t.kept = t.phrase = True
                break
        tok.plain = tok.text.islower() and tok.low in lex.common and tok.base not in lex.names
        bare = re.sub(r"['’]s?$", "", tok.low)
        if tok.low in lex.keep or tok.base in lex.keep or bare in lex.keep or _is_law(tok.low) \
                or _PLACE_ENDING.search(tok.low) and tok.base not in lex.names:
            tok.kept = True
    return out


def _is_law(low: str) -> bool:
    return low.endswith(("loven", "lovens")) or low in {"lov", "loven"}


def _capitalised(word: str) -> bool:
    # "MitID", "SEL" and "e-Boks" are acronyms or brands, not names; "Al-Hassan" is one.
    parts = re.split(r"[-'’]", word)
    return word[0].isupper() and all(not p or p[0].isupper() or i > 0 and p.islower() for i, p in enumerate(parts)) \
        and all(not p[1:] or p[1:].islower() for p in parts)


def _gap(text: str, a: _Token, b: _Token) -> str:
    return text[a.end: b.start]


def _context(text: str, toks: list[_Token], i: int, placeholders: list[tuple[int, int]],
             common: bool, listed: bool) -> tuple[bool, bool, bool]:
    """(honorific, strong, weak) evidence around token i that it is a person's name.

    An age after a common word is no evidence: "Hun er 84" is the pronoun."""
    tok = toks[i]
    prev = toks[i - 1] if i > 0 else None
    between = text[prev.end: tok.start] if prev else text[: tok.start]
    prev_is_honorific = prev is not None and prev.low in HONORIFICS and re.fullmatch(r"\.?\s+", between)
    prev_is_relation = prev is not None and re.fullmatch(r",?\s+", between) and (
        prev.low in RELATIONS or (toks[i - 2].low if i > 1 else "", prev.low) in _INTRODUCTIONS
        or (prev.low, "") in _INTRODUCTIONS)
    after_placeholder = any(e <= tok.start and re.fullmatch(r"\s*(?:og|and|,)\s*", text[e: tok.start])
                            for _, e in placeholders if tok.start - e < 6)
    age_after = bool(_AGE_AFTER.match(text[tok.end: tok.end + 24]))
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    joined = lambda a, b: re.fullmatch(r" |-", _gap(text, a, b)) is not None  # noqa: E731
    next_is_name = nxt is not None and nxt.name and joined(tok, nxt)
    prev_is_name = prev is not None and prev.name and joined(prev, tok)
    # "Per og Karen", "Rose og [NAVN 1]": two people named together
    and_before = prev is not None and prev.low in {"og", "and"} and i > 1 and toks[i - 2].name \
        and re.fullmatch(r"\s+", between)
    and_after = nxt is not None and nxt.low in {"og", "and"} and i + 2 < len(toks) and toks[i + 2].name
    name_like = listed or not common
    strong = bool(prev_is_honorific or name_like and (age_after or next_is_name or prev_is_name)
                  or listed and (and_before or and_after))
    weak = bool(prev_is_relation or after_placeholder)
    return bool(prev_is_honorific), strong, weak


def _decide(text: str, toks: list[_Token], lex: Lexicon, placeholders, german: bool, known: set[str]) -> bool:
    """One pass over the tokens; True if a token became a name."""
    changed = False
    for i, tok in enumerate(toks):
        if tok.name or len(tok.text) < 2 or tok.plain and not (i and toks[i - 1].low in HONORIFICS):
            continue
        word = tok.text
        if tok.low in HONORIFICS or tok.low in RELATIONS and not _capitalised(word):
            continue
        listed = tok.base in lex.names
        common = tok.low in lex.common or tok.base in lex.common and not listed
        if tok.low in RELATIONS or tok.low in _NEVER:
            continue
        honorific, strong, weak = _context(text, toks, i, placeholders, common, listed)
        prev = toks[i - 1] if i > 0 else None
        after_place_word = prev is not None and prev.low in _PLACE_BEFORE and text[prev.end: tok.start] == " "
        if tok.kept:
            # a place that is also a surname ("Fru Lindholm", "Thomas Thisted", "Jordan (34)")
            prev_name = prev is not None and prev.name and text[prev.end: tok.start] == " " and _capitalised(word)
            is_name = honorific or (listed and strong or prev_name and not tok.phrase) and not after_place_word
        elif _capitalised(word):
            if tok.base in known:
                is_name = True
            elif not tok.initial:
                if listed:
                    is_name = not after_place_word or strong
                elif (german or common) and not strong:
                    is_name = False
                else:
                    is_name = strong or weak or not after_place_word
            elif listed and not common:
                is_name = not german or strong  # German starts sentences with nouns that are also names
            else:
                is_name = strong or (weak and not common) or listed and _verb_follows(toks, i)
        elif word.islower():
            if common:
                is_name = listed and (strong or weak) and len(word) > 1 and _lower_name_in_context(toks, i, lex)
            else:
                is_name = len(word) > 2 and (listed or honorific or weak and strong or weak and _looks_like_name(word))
        else:
            is_name = False
        if is_name:
            tok.name = changed = True
            known.add(tok.base)
    return changed


# Words that follow a name and never a noun phrase's first word: "datteren bo kommer", "Bo ringede".
_AFTER_NAME = frozenset("""og i idag igen der som om er har var kl på fra from kommer kom ringer ringede bor boede
    siger sagde
    fortæller fortalte hedder vil ville skal skulle kan kunne hjælper hjalp får fik går gik mener synes tror ved
    is has was says said lives called came wants will""".split())
# Function words that some name lists hold ("Man", "Alle", "Mine"): never a name.
_NEVER = frozenset("""man alle mine dine sine den det der de hun han jeg vi du en et som men nu så da kan vil skal
    må har er var jo ja nej også her hendes hvis når om til fra med for ved efter under over
    the and will may can are his her she he we you it i
    evt tlf osv mht ift bla mvh ca kl nr stk jf
    theres dont cant doesnt isnt wont didnt im ive hes shes thats""".split())
# Street and building names end so ("Fyrkildevej", "Skydebanevej", "Søndergade"): places.
_PLACE_ENDING = re.compile(r"(?:vej|vejen|gade|gaden|stræde|allé|alle|plads|pladsen|torv|torvet|boulevard|vænge"
                           r"|vænget|parken|centret|centeret|center|skolen|hallen|kirke|kirken|huset|hjemmet)$")


def _verb_follows(toks: list[_Token], i: int) -> bool:
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    return nxt is not None and nxt.low in _AFTER_NAME and nxt.low not in {"i", "på", "om", "og", "der", "som"}


def _lower_name_in_context(toks: list[_Token], i: int, lex: Lexicon) -> bool:
    # "besøgte bo i dag" is bo the name; "besøgte hans kone" is not: a common word after a
    # relation is a name only when the next word is not a noun it could belong to.
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    return nxt is None or nxt.low in _AFTER_NAME


# Endings of Danish nouns and verbs ("tandlægen", "kommer", "hjælpen"): such a word is no name.
_WORD_ENDING = re.compile(r"(?:en|et|ne|er|re|de|te|ede|ing|hed|else|tion|sion|lig|ligt|ige|isk|ene|ens|ets)$")


def _looks_like_name(word: str) -> bool:
    return bool(re.fullmatch(r"[a-zæøåäöüéè'-]{3,}", word)) and not _WORD_ENDING.search(word)


def name_spans(text: str) -> list[tuple[int, int, str]]:
    """Where the names of people are in a text: (start, end, placeholder), in text order.

    Args:
        text: a note; identifiers may already be placeholders.
    Returns:
        One span per mention (adjacent words of one name are one span), with the placeholder
        that replaces it, numbered per person after any [NAVN n] already in the text.
    """
    if not text or not _TOKEN.search(text):
        return []
    lex = lexicon()
    placeholders = [(m.start(), m.end()) for m in _PLACEHOLDER.finditer(text) if m.group().startswith("[NAVN")]
    masked = _PLACEHOLDER.sub(lambda m: "\0" * len(m.group()), text)  # no word, no gap
    toks = _tokens(masked, lex)
    mid = [t for t in toks if not t.initial and not t.kept]
    caps = [t for t in mid if _capitalised(t.text) and t.base not in lex.names]
    # German capitalises every noun: there only listed names count.
    german = len(mid) >= 12 and len(caps) > 0.2 * len(mid)
    known: set[str] = set()
    for _ in range(_MAX_PASSES):
        if not _decide(masked, toks, lex, placeholders, german, known):
            break
    return _spans(text, toks)


_NAME_PLACEHOLDER = re.compile(r"\s*\[NAVN(?: \d+)?\]")


def without_names(text: str) -> str:
    """The text with its [NAVN n] placeholders left out, for the retrievers.

    A placeholder says nothing about the citizen's situation, but "navn" is a word of the
    corpus and the encoder reads "[NAVN 1]" as text: both pulled matching off the point.
    """
    return _NAME_PLACEHOLDER.sub("", text) if "[NAVN" in text else text


def pseudonymise(text: str) -> str:
    """Replace each person's name with [NAVN n], numbered per person within the note.

    Args:
        text: a note; identifiers may already be placeholders.
    Returns:
        The note with names replaced; honorifics ("Fru"), ages ("(88)") and possessive
        endings ("[NAVN 1]s datter") kept. Running it again changes nothing.
    """
    for start, end, placeholder in reversed(name_spans(text)):
        text = text[:start] + placeholder + text[end:]
    return text


def _spans(text: str, toks: list[_Token]) -> list[tuple[int, int, str]]:
    """Join adjacent name tokens into one mention and number the people in order of mention."""
    used = [int(n) for n in re.findall(r"\[NAVN (\d+)\]", text)]
    next_n = max(used, default=0) + 1
    people: dict[str, int] = {}
    spans: list[tuple[int, int, str]] = []
    i = 0
    while i < len(toks):
        if not toks[i].name:
            i += 1
            continue
        j = i
        while j + 1 < len(toks) and toks[j + 1].name and re.fullmatch(r" |-", _gap(text, toks[j], toks[j + 1])) \
                and not toks[j].suffix:
            j += 1
        words = [t.base for t in toks[i: j + 1]]
        key = " ".join(words)
        # "Erna Jensen" after "Hans Jensen" is another person; "Jensen" alone is the first Jensen.
        number = people.get(key) or people.get(words[0])
        if number is None:
            number, next_n = next_n, next_n + 1
        people.setdefault(key, number)
        for w in words:
            people.setdefault(w, number)
        end = toks[j].end - len(toks[j].suffix)
        spans.append((toks[i].start, end, PLACEHOLDER.format(n=number)))
        i = j + 1
    return spans

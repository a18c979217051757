"""The enacted text of the acts the corpus cites (rules/acts/): load, look up, import.

One JSON file per law code holds one act (a consolidation, LBK, or the act itself, LOV):
its number and date, ELI link, where the copy came from, and every section's text split
into stk. `import_act` reads retsinformation.dk's XML (LexDania) or a JSON export of it
with `provisions` (as kept in data/seed/ of Ansvar-Systems/Danish-law-mcp).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from .corpus import LAW_CODES

FORMAT = 1
REPEALED = "(Ophævet)"

#: Title patterns of the acts behind each law code (lower case, whitespace normalised).
TITLE_PATTERNS = {
    "SEL": r"\blov om social service\b",
    "ÆL": r"^ældrelov(en)?$",
    "LAS": r"\blov om aktiv socialpolitik\b",
    "LAB": r"\blov om en aktiv beskæftigelsesindsats\b",
    "PL": r"\blov om social pension\b",
    "SUL": r"\bsundhedsloven\b",
    "RSL": r"\blov om retssikkerhed og administration på det sociale område\b",
    "FVL": r"\bforvaltningsloven\b",
    "INL": r"\blov om integration af udlændinge i danmark\b",
    "DUL": r"\blov om danskuddannelse til voksne udlændinge\b",
    "ABL": r"\blov om almene boliger\b",
    "BSL": r"\blov om individuel boligstøtte\b",
    "BL": r"\bbarnets lov\b",
}

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_LETTER = r"(?:\s*([a-z])(?![a-zæøå]))?"
# "82 a", "34-34 b", "96 k-o" (the range's end may give only a letter)
_SPAN = rf"(\d+){_LETTER}(?:\s*-\s*(\d+)?{_LETTER})?"
_RANGE = re.compile(rf"^{_SPAN}$")
# the label a section's text starts with: "§ 82 a.", "§§ 34-34 b.", "§ § 28-31a.", "§ 15 a (Ophævet)"
_LABEL = re.compile(rf"^§\s*§?\s*{_SPAN}\s*(?:\.\s*|(?=\s))")


class ActError(ValueError):
    """An act file or an export cannot be read; the message says which and why."""


def clean(text: str) -> str:
    """NFC, no zero-width characters or soft hyphens, whitespace as single spaces."""
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH).replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()


def fold(text: str) -> str:
    """The comparison form of a text: cleaned and case-folded."""
    return clean(text).casefold()


def _key(number: str, letter: Optional[str]) -> tuple[int, str]:
    return int(number), letter or ""


def parse_section(text: str) -> tuple[tuple[int, str], tuple[int, str]]:
    """The first and last section a label covers: '82 a' -> ((82,'a'),(82,'a')); '34-34 b' a range."""
    m = _RANGE.match(re.sub(r"[§\s]+", " ", text).strip().lower())
    if not m:
        raise ActError(f"{text!r} is not a section like '§ 82 a' or '§§ 34-34 b'")
    return _span(m)


def _span(m: re.Match) -> tuple[tuple[int, str], tuple[int, str]]:
    first = _key(m[1], m[2])
    if m[3] is None and m[4] is None:
        return first, first
    return first, _key(m[3] or m[1], m[4])


def _label(first: tuple[int, str], last: tuple[int, str]) -> str:
    def one(k: tuple[int, str]) -> str:
        return f"{k[0]} {k[1]}" if k[1] else str(k[0])

    return f"§ {one(first)}" if first == last else f"§§ {one(first)}-{one(last)}"


@dataclass(frozen=True)
class Section:
    """One section (or a range of repealed ones) as enacted, its stk. in order."""

    label: str
    first: tuple[int, str]
    last: tuple[int, str]
    stk: tuple[str, ...]
    chapter: Optional[str] = None

    @property
    def repealed(self) -> bool:
        """Whether the act marks the section '(Ophævet)'."""
        return bool(self.stk) and self.stk[0].startswith(REPEALED) and len(self.stk) == 1

    def covers(self, key: tuple[int, str]) -> bool:
        return self.first <= key <= self.last

    @property
    def text(self) -> str:
        """The whole section as one text, with its 'Stk. N.' markers."""
        return " ".join(f"Stk. {n}. {t}" if n > 1 else f"{self.label}. {t}" for n, t in enumerate(self.stk, 1))

    def stk_with_terms(self, terms: Iterable[str]) -> list[int]:
        """Numbers (from 1) of the stk. that contain any of the terms; empty when none does."""
        wanted = [fold(t) for t in terms if t.strip()]
        return [n for n, t in enumerate(self.stk, 1) if any(w in fold(t) for w in wanted)]

    def to_json(self) -> dict:
        return {"section": self.label, **({"chapter": self.chapter} if self.chapter else {}),
                "stk": list(self.stk)}


@dataclass(frozen=True)
class Act:
    """One act: which it is, where the copy came from, and its sections."""

    law: str
    title: str
    kind: str  # LBK (consolidation) or LOV
    number: int
    year: int
    date: dt.date
    eli: str
    source: dict
    sections: tuple[Section, ...]
    imported: Optional[str] = None
    _index: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {s.first: s for s in self.sections})

    @property
    def citation(self) -> str:
        """How the corpus names this act in `checked_against`: 'LBK nr. 1129 af 2025'."""
        return f"{self.kind} nr. {self.number} af {self.year}"

    def section(self, section: str) -> Optional[Section]:
        """The section ('§ 83', '§ 79 a') as enacted, or the repealed range that covers it; None if absent."""
        key, _ = parse_section(section)
        hit = self._index.get(key)
        if hit is not None:
            return hit
        return next((s for s in self.sections if s.covers(key)), None)

    def to_json(self) -> dict:
        return {"format": FORMAT, "law": self.law, "act": self.citation, "title": self.title,
                "kind": self.kind, "number": self.number, "year": self.year,
                "date": self.date.isoformat(), "eli": self.eli, "source": self.source,
                "imported": self.imported,
                "sections": [s.to_json() for s in self.sections]}

    @classmethod
    def from_json(cls, doc: dict, where: str = "act") -> "Act":
        try:
            if doc.get("format") != FORMAT:
                raise ActError(f"{where}: format {doc.get('format')!r}, expected {FORMAT}")
            sections = []
            for s in doc["sections"]:
                first, last = parse_section(s["section"])
                sections.append(Section(label=s["section"], first=first, last=last,
                                        stk=tuple(s["stk"]), chapter=s.get("chapter")))
            return cls(law=doc["law"], title=doc["title"], kind=doc["kind"], number=int(doc["number"]),
                       year=int(doc["year"]), date=dt.date.fromisoformat(doc["date"]), eli=doc["eli"],
                       source=dict(doc["source"]), sections=tuple(sections), imported=doc.get("imported"))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ActError):
                raise
            raise ActError(f"{where}: not an act file ({exc.__class__.__name__}: {exc})") from None


@dataclass(frozen=True)
class Acts:
    """The acts on file, one per law code."""

    by_law: dict

    def get(self, law: str) -> Optional[Act]:
        return self.by_law.get(law)

    def section(self, law: str, section: str) -> Optional[Section]:
        """The enacted section of a law, or None (no act on file, or no such section)."""
        act = self.by_law.get(law)
        return act.section(section) if act else None

    def __len__(self) -> int:
        return len(self.by_law)


@dataclass(frozen=True)
class Enacted:
    """A rule's section as enacted, for showing beside the corpus's plain summary."""

    citation: str  # "SEL § 83"
    act: str  # "LBK nr. 1129 af 2025"
    date: dt.date
    eli: str
    label: str  # the act's own label: "§ 83", or "§§ 34-34 b" for a repealed range
    stk: tuple[str, ...]
    #: numbers (from 1) of the stk. holding the rule's key terms; empty means the whole section
    relevant: tuple[int, ...]
    repealed: bool


def enacted_text(acts: Acts, law: str, section: str, key_terms: Iterable[str] = ()) -> Optional[Enacted]:
    """The enacted section behind a citation, with the stk. its key terms point to; None if not on file."""
    act = acts.get(law)
    found = act.section(section) if act else None
    if found is None:
        return None
    relevant = () if found.repealed else tuple(found.stk_with_terms(key_terms))
    return Enacted(citation=f"{law} {section}", act=act.citation, date=act.date, eli=act.eli,
                   label=found.label, stk=found.stk, relevant=relevant, repealed=found.repealed)


def act_file_name(law: str) -> str:
    """The file of a law code's act: 'ÆL' -> 'ael.json'."""
    return law.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa") + ".json"


def load_acts(folder: Path) -> Acts:
    """Every act file in folder (a missing folder holds none).

    Raises:
        ActError: a file is not an act, names another law than its file name, or repeats a law.
    """
    folder = Path(folder)
    by_law: dict[str, Act] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ActError(f"{path.name}: not readable JSON: {exc}") from None
        act = Act.from_json(doc, path.name)
        if act.law not in LAW_CODES or act_file_name(act.law) != path.name:
            raise ActError(f"{path.name}: holds law {act.law!r}; its file must be {act_file_name(act.law)}")
        by_law[act.law] = act
    return Acts(by_law)


def write_act(act: Act, folder: Path) -> Path:
    """Write an act's file (whole, then renamed into place) and return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / act_file_name(act.law)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(act.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


# ---------------------------------------------------------------------------- import


def split_stk(body: str) -> list[str]:
    """A section's text (after its '§ N.') split at 'Stk. 2.', 'Stk. 3.', ... in order."""
    parts, start, n = [], 0, 2
    while True:
        m = re.compile(rf"(?<=[.:;)»]) Stk\. {n}\. ").search(body, start)
        if not m:
            break
        parts.append(body[start:m.start()].strip())
        start, n = m.end(), n + 1
    parts.append(body[start:].strip())
    return parts


def _section_from_text(content: str, chapter: Optional[str]) -> Optional[Section]:
    content = clean(content)
    m = _LABEL.match(content)
    if not m:
        return None
    first, last = _span(m)
    return Section(label=_label(first, last), first=first, last=last,
                   stk=tuple(split_stk(content[m.end():])), chapter=chapter)


def _in_order(sections: Iterable[Section]) -> tuple[Section, ...]:
    """The act's own sections: those after the last one in numbering order are the
    commencement provisions of amending acts that a consolidation prints at its end."""
    out: list[Section] = []
    for s in sections:
        if out and s.first <= out[-1].last:
            continue
        out.append(s)
    return tuple(out)


def _law_of(title: str, law: Optional[str]) -> str:
    if law:
        if law not in LAW_CODES:
            raise ActError(f"unknown law code {law!r}; use one of {', '.join(LAW_CODES)}")
        return law
    t = clean(title).lower()
    if t.startswith("lov om ændring"):
        raise ActError(f"{title!r} is an amending act; import the consolidation (LBK) or the act itself")
    hits = [code for code, pattern in TITLE_PATTERNS.items() if re.search(pattern, t)]
    if len(hits) != 1:
        raise ActError(f"cannot tell the law code from the title {title!r}; pass --law")
    return hits[0]


def _kind(short_name: str) -> str:
    kind = clean(short_name).split(" ")[0].upper() if short_name else ""
    if kind not in {"LBK", "LOV"}:
        raise ActError(f"document type {short_name!r}: only an act (LOV) or a consolidation (LBK) can be imported")
    return kind


def _eli(year: int, number: int) -> str:
    return f"https://www.retsinformation.dk/eli/lta/{year}/{number}"


def _from_export(doc: dict, law: Optional[str]) -> dict:
    try:
        year, number = (int(x) for x in str(doc["id"]).split(":"))
        provisions = doc["provisions"]
        title = doc["title"]
        date = dt.date.fromisoformat(doc["issued_date"][:10])
    except (KeyError, ValueError, TypeError) as exc:
        raise ActError(f"not an export with id 'YEAR:NUMBER', title, issued_date and provisions ({exc})") from None
    sections = [_section_from_text(p.get("content", ""), p.get("chapter")) for p in provisions]
    return dict(law=_law_of(title, law), title=clean(title), kind=_kind(doc.get("short_name", "")),
                number=number, year=year, date=date, eli=_eli(year, number),
                sections=_in_order(s for s in sections if s))


def _text(e: ET.Element) -> str:
    """The words of an element, footnotes (Nota) left out; Char runs in one line join without a space."""
    if e.tag == "Nota":
        return ""
    parts = [e.text or ""] if e.tag in {"Char", "Explicatus"} else []
    parts += [_text(c) for c in e]
    return ("" if e.tag == "Linea" else " ").join(p for p in parts if p)


def _paragraf(p: ET.Element, chapter: Optional[str]) -> Optional[Section]:
    head = p.find("Explicatus")
    m = _LABEL.match(clean("".join(head.itertext())) + " ") if head is not None else None
    if not m:
        return None
    stk = [clean(" ".join(_text(c) for c in s if c.tag != "Explicatus")) for s in p.findall("Stk")]
    if not any(stk):
        return None
    first, last = _span(m)
    return Section(label=_label(first, last), first=first, last=last, stk=tuple(stk), chapter=chapter)


def _from_xml(raw: bytes, law: Optional[str]) -> dict:
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise ActError(f"not well-formed XML: {exc}") from None
    meta, body = root.find("Meta"), root.find("DokumentIndhold")
    if root.tag != "Dokument" or meta is None or body is None:
        raise ActError("not a retsinformation.dk document: expected <Dokument> with <Meta> and <DokumentIndhold>")

    def field_(name: str) -> str:
        e = meta.find(name)
        return clean("".join(e.itertext())) if e is not None else ""

    try:
        year, number = int(field_("Year")), int(field_("Number"))
        date = dt.date.fromisoformat(field_("DiesSigni")[:10])
    except ValueError:
        raise ActError("the document's <Meta> lacks Year, Number or DiesSigni") from None
    title = field_("DocumentTitle")
    sections: list[Section] = []

    def walk(e: ET.Element, chapter: Optional[str]) -> None:
        for c in e:
            if c.tag in {"Ikraft", "Bilag", "Nota"}:
                continue  # commencement of amending acts, annexes, footnotes: not the act's sections
            if c.tag == "Kapitel":
                head = c.find("Explicatus")
                m = re.search(r"(\d+\s*[a-z]?)", "".join(head.itertext())) if head is not None else None
                walk(c, m[1].replace(" ", "") if m else chapter)
            elif c.tag == "Paragraf":
                s = _paragraf(c, chapter)
                if s:
                    sections.append(s)
            else:
                walk(c, chapter)

    walk(body, None)
    return dict(law=_law_of(title, law), title=title, kind=_kind(field_("DocumentType")),
                number=number, year=year, date=date, eli=_eli(year, number), sections=_in_order(sections))


def import_act(path: Path, law: Optional[str] = None, source: Optional[dict] = None,
               today: Optional[dt.date] = None) -> Act:
    """Read an act from a retsinformation.dk XML file or a JSON export of it.

    Args:
        path: the file (.xml, or JSON with id, title, short_name, issued_date, provisions).
        law: the law code; inferred from the title when not given.
        source: where the copy came from (repository, path, commit); the file's name and
            SHA-256 are recorded in any case.
        today: the import date recorded in the file.
    Returns:
        The Act, ready for `write_act`.
    Raises:
        ActError: the file is not such an export, or holds no sections.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ActError(f"{path}: cannot be read: {exc.strerror}") from None
    if raw.lstrip()[:1] == b"<":
        parsed = _from_xml(raw, law)
    else:
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ActError(f"{path.name}: neither XML nor JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise ActError(f"{path.name}: the JSON must be one object per act")
        parsed = _from_export(doc, law)
    if not parsed["sections"]:
        raise ActError(f"{path.name}: no sections ('§ 1. ...') found")
    origin = {**(source or {}), "file": path.name, "sha256": hashlib.sha256(raw).hexdigest()}
    return Act(**parsed, source=origin, imported=(today or dt.date.today()).isoformat())

"""The rules corpus: schema, loading and validation of rules/*.yaml."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

#: Law codes fixed by shared/law-codes.md (docs/LAW_CODES.md is the project's copy).
LAW_CODES = {
    "SEL": "Serviceloven",
    "ÆL": "Ældreloven",
    "LAS": "Aktivloven",
    "LAB": "Beskæftigelsesloven",
    "PL": "Pensionsloven",
    "SUL": "Sundhedsloven",
    "RSL": "Retssikkerhedsloven",
    "FVL": "Forvaltningsloven",
    "INL": "Integrationsloven",
    "DUL": "Danskuddannelsesloven",
    "ABL": "Almenboligloven",
    "BSL": "Boligstøtteloven",
    "BL": "Barnets lov",
}

_SECTION = re.compile(r"^§ \d+( [a-z])?$")
_CITATION = re.compile(r"^(?P<law>[A-ZÆØÅ]{2,4}) (?P<section>§ \d+( [a-z])?)$")
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")


def normalise_section(section: str) -> str:
    """The comparison key of a provision: `§ 79 a`, `§79a` and `§ 79A` are the same."""
    return re.sub(r"[\s§]", "", section).lower()


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str = Field(min_length=3)
    summary: str = Field(min_length=20)
    situations: list[str] = Field(min_length=2)
    keywords: list[str] = []
    note: Optional[str] = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("must be lower-case words joined by '-', like 'sel-83' or 'aalborg-madservice'")
        return v

    @field_validator("situations", "keywords")
    @classmethod
    def _no_blank(cls, v: list[str]) -> list[str]:
        if any(not s or not s.strip() for s in v):
            raise ValueError("must not contain blank items")
        return v


class AppliesTo(BaseModel):
    """Whom a rule covers: target groups and the age bounds the law sets."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    groups: list[str] = Field(min_length=1)
    min_age: Optional[int] = Field(default=None, ge=0, le=120)
    max_age: Optional[int] = Field(default=None, ge=0, le=120)
    pension_age: Optional[Literal["below", "above"]] = None
    #: The side of folkepensionsalderen the provision serves in practice where the law does not split by
    #: age (kontanthjælp, bostøtte, botilbud rarely fit a pensioner): lowered less than pension_age for the other side.
    pension_age_usual: Optional[Literal["below", "above"]] = None


class Rule(_Entry):
    """A legal provision."""

    kind: Literal["rule"]
    law: str
    section: str
    applies_to: AppliesTo
    source_url: str
    valid_from: dt.date
    valid_to: Optional[dt.date] = None
    successor: Optional[str] = None
    #: Provisions a caseworker looks at whenever this one fits (ÆL § 24 sets the amount of § 23's pay).
    companions: list[str] = []
    #: Words the enacted text of the section must contain (`matcher rules check`): a wrong or renumbered section fails.
    key_terms: list[str] = []
    #: The act the entry was last checked against, e.g. "LBK nr. 1129 af 2025" (see rules/acts/).
    checked_against: Optional[str] = None

    @field_validator("law")
    @classmethod
    def _law_code(cls, v: str) -> str:
        if v not in LAW_CODES:
            raise ValueError(f"unknown law code {v!r}; use one of {', '.join(LAW_CODES)}")
        return v

    @field_validator("section")
    @classmethod
    def _section_shape(cls, v: str) -> str:
        if not _SECTION.match(v):
            raise ValueError("write it as in the law, like '§ 83' or '§ 79 a'")
        return v

    @field_validator("source_url")
    @classmethod
    def _retsinformation(cls, v: str) -> str:
        if not v.startswith("https://www.retsinformation.dk/"):
            raise ValueError("must be a https://www.retsinformation.dk/ link")
        return v

    @model_validator(mode="after")
    def _dates(self) -> "Rule":
        if self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self

    @property
    def citation(self) -> str:
        return f"{self.law} {self.section}"

    @property
    def legal_basis(self) -> list[str]:
        return [self.citation]

    def in_force(self, on: dt.date) -> bool:
        """Whether the provision applies on a given day."""
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


class Service(_Entry):
    """A local municipal or voluntary service."""

    kind: Literal["service"]
    provider: str
    contact: Optional[str] = None
    url: Optional[str] = None
    legal_basis: list[str] = []

    law: None = None
    section: None = None

    @field_validator("legal_basis")
    @classmethod
    def _citations(cls, v: list[str]) -> list[str]:
        for c in v:
            m = _CITATION.match(c)
            if not m or m["law"] not in LAW_CODES:
                raise ValueError(f"{c!r} is not a citation like 'SEL § 83 b' with a known law code")
        return v

    @model_validator(mode="after")
    def _reachable(self) -> "Service":
        if not (self.contact or self.url):
            raise ValueError("give a contact or a url")
        return self

    @property
    def source_url(self) -> Optional[str]:
        return self.url

    def in_force(self, on: dt.date) -> bool:
        return True


Entry = Union[Rule, Service]


class CorpusError(ValueError):
    """A corpus file or entry is broken; the message names file, entry and field."""


@dataclass(frozen=True)
class Corpus:
    """The validated entries, in file order, with a content hash for index manifests."""

    entries: tuple[Entry, ...]
    content_hash: str
    #: entry id -> its position in `entries` (the entry number every score array uses)
    numbers: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "numbers", {e.id: i for i, e in enumerate(self.entries)})

    def get(self, entry_id: str) -> Optional[Entry]:
        """The entry with this id, or None."""
        i = self.numbers.get(entry_id)
        return None if i is None else self.entries[i]

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def rules(self) -> list[Rule]:
        return [e for e in self.entries if isinstance(e, Rule)]

    @property
    def services(self) -> list[Service]:
        return [e for e in self.entries if isinstance(e, Service)]


def load_corpus(rules_dir: Path) -> Corpus:
    """Load and validate every rules/*.yaml file.

    Args:
        rules_dir: the folder holding the YAML files.
    Returns:
        The Corpus.
    Raises:
        CorpusError: on the first broken file or entry, naming file, entry and field.
    """
    rules_dir = Path(rules_dir)
    files = sorted(rules_dir.glob("*.yaml"))
    if not files:
        raise CorpusError(f"{rules_dir}: no *.yaml files; point MATCHER_RULES_DIR at the rules folder")
    digest = hashlib.sha256()
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for path in files:
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + raw + b"\0")
        for entry in _load_file(path, raw):
            if entry.id in seen:
                raise CorpusError(f"{path.name}: entry {entry.id!r}: id already used in {seen[entry.id]}")
            seen[entry.id] = path.name
            entries.append(entry)
    _check_references(entries, seen)
    return Corpus(entries=tuple(entries), content_hash=digest.hexdigest())


def _load_file(path: Path, raw: bytes) -> list[Entry]:
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        raise CorpusError(f"{path.name}: must be a mapping with a list under 'entries'")
    out: list[Entry] = []
    for i, item in enumerate(doc["entries"], start=1):
        label = item.get("id", f"#{i}") if isinstance(item, dict) else f"#{i}"
        if not isinstance(item, dict):
            raise CorpusError(f"{path.name}: entry {label}: must be a mapping")
        kind = item.get("kind")
        model = {"rule": Rule, "service": Service}.get(kind)
        if model is None:
            raise CorpusError(f"{path.name}: entry {label!r}: field 'kind': must be 'rule' or 'service'")
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "(entry)"
            raise CorpusError(f"{path.name}: entry {label!r}: field '{where}': {err['msg']}") from None
    return out


def _check_references(entries: list[Entry], seen: dict[str, str]) -> None:
    for e in entries:
        if isinstance(e, Rule) and e.successor and e.successor not in seen:
            raise CorpusError(
                f"{seen[e.id]}: entry {e.id!r}: field 'successor': no entry has id {e.successor!r}"
            )
        for other in getattr(e, "companions", ()):
            if other not in seen or other == e.id:
                raise CorpusError(
                    f"{seen[e.id]}: entry {e.id!r}: field 'companions': {other!r} is not another entry's id"
                )

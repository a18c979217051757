"""The `matcher match --jsonl` contract: one JSON line out for every line in, same order."""
from __future__ import annotations

import datetime as dt
import json
from typing import Iterable, Iterator

from .engine import Matcher


def match_line(matcher: Matcher, line: str, top: int, on: dt.date | None = None) -> dict:
    """Match one input line; an unusable line gives {"id": ..., "error": ...} instead of raising."""
    if not line.strip():
        return {"id": None, "error": "blank line; expected a JSON object with id and text"}
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"not valid JSON ({exc.msg} at column {exc.colno})"}
    if not isinstance(obj, dict):
        return {"id": None, "error": "expected a JSON object with id and text"}
    note_id = obj.get("id")
    if not isinstance(note_id, (str, int)) or isinstance(note_id, bool):
        return {"id": None, "error": "missing or invalid 'id' (a string or number)"}
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        return {"id": note_id, "error": "missing or empty 'text'"}
    try:
        suggestions = matcher.match(text, top=top, on=on)
    except ValueError as exc:
        return {"id": note_id, "error": str(exc)}
    return {"id": note_id, "suggestions": [s.to_dict() for s in suggestions],
            "confidence": suggestions.confidence, "no_good_match": suggestions.no_good_match}


def match_lines(matcher: Matcher, lines: Iterable[str], top: int = 10, on: dt.date | None = None) -> Iterator[str]:
    """Yield one JSON line per input line."""
    for line in lines:
        yield json.dumps(match_line(matcher, line, top, on), ensure_ascii=False)

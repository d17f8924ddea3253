"""Title, date and author taken from what a document shows, overridable by a sidecar file.

Only the header zone (the first few paragraphs) is searched for a date or a by-line, so a date
inside a photo caption or the body is never mistaken for the publication date. Unknown fields
stay blank rather than guessed.
"""

from __future__ import annotations

import json
import re
from datetime import date as _date
from pathlib import Path

from ingest.clean import is_furniture
from ingest.text import paragraphs, word_tokens

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
_MONTH_RE = r"(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
_ISO_DATE = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_MDY_DATE = re.compile(_MONTH_RE + r"\s+(\d{1,2}),?\s+(\d{4})", re.IGNORECASE)
_DMY_DATE = re.compile(r"\b(\d{1,2})\s+" + _MONTH_RE + r",?\s+(\d{4})", re.IGNORECASE)
_AUTHOR_LINE = re.compile(r"^(?:author|written by|by)\s*:?\s+([A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3})\s*$", re.IGNORECASE)
_NAME_WITH_ROLE = re.compile(
    r"^([A-Z][a-z]+(?:[ -](?!(?:Senior|Research|Visiting|Non-resident)\b)[A-Z][a-z]+){1,2})\s+(?:Senior |Research |Visiting |Non-resident )*(?:Fellow|Professor|Director|Analyst|Researcher)\b"
)
_HEADER_PARAGRAPHS = 8
_SIDECAR_FIELDS = ("title", "date", "author")


def normalize_date(text: str) -> str:
    """The first date in `text` as YYYY-MM-DD, or '' if there is none (or it is not a real date)."""
    for pattern, order in ((_ISO_DATE, "ymd"), (_MDY_DATE, "mdy"), (_DMY_DATE, "dmy")):
        match = pattern.search(text)
        if not match:
            continue
        groups = match.groups()
        try:
            if order == "ymd":
                y, m, d = int(groups[0]), int(groups[1]), int(groups[2])
            elif order == "mdy":
                y, m, d = int(groups[2]), _MONTHS[_full_month(groups[0])], int(groups[1])
            else:
                y, m, d = int(groups[2]), _MONTHS[_full_month(groups[1])], int(groups[0])
            return _date(y, m, d).isoformat()
        except (ValueError, KeyError):
            continue
    return ""


def _full_month(abbrev: str) -> str:
    abbrev = abbrev.lower().rstrip(".")
    return next(m for m in _MONTHS if m.startswith(abbrev[:3]))


def _header(raw: str) -> list[str]:
    lines = [raw[s:e] for s, e in paragraphs(raw)]
    return [line for line in lines[:_HEADER_PARAGRAPHS] if not is_furniture(line) or line.lower().startswith("date")]


def extract_title(raw: str) -> str:
    """The longest title-like line before the prose starts; '' when the text opens with prose."""
    candidates = []
    for line in _header(raw):
        words = len(word_tokens(line))
        is_prose = line.rstrip().endswith((".", "!", "?", "”", '"')) or line.lower().startswith("date ")
        if is_prose and words > 12:
            break
        if is_prose or words < 3 or words > 40 or normalize_date(line) or _AUTHOR_LINE.match(line):
            continue
        if line.startswith(("No.", "•", "#")):
            continue
        candidates.append(line.strip())
    return max(candidates, key=len, default="")


def extract_date(raw: str) -> str:
    for line in _header(raw):
        if len(word_tokens(line)) <= 10 or line.lower().startswith("date"):
            found = normalize_date(line)
            if found:
                return found
    return ""


def extract_author(raw: str) -> str:
    for s, e in paragraphs(raw):
        match = _AUTHOR_LINE.match(raw[s:e].strip())
        if match:
            return match.group(1)
    for line in _header(raw):
        match = _NAME_WITH_ROLE.match(line.strip())
        if match:
            return match.group(1)
    return ""


def read_sidecar(path: Path) -> dict[str, str]:
    """`name.ext.meta.json` or `name.ext.meta.yaml` next to the file, if present."""
    for suffix in (".meta.json", ".meta.yaml", ".meta.yml"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.is_file():
            if suffix == ".meta.json":
                data = json.loads(sidecar.read_text(encoding="utf-8"))
            else:
                import yaml

                data = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
            return {k: str(data[k]) for k in _SIDECAR_FIELDS if data.get(k)}
    return {}


def document_metadata(raw: str, path: Path, properties: dict[str, str] | None = None) -> dict[str, str]:
    """Sidecar beats file properties (PDF/DOCX/HTML) beats what the text shows."""
    found = {"title": extract_title(raw), "date": extract_date(raw), "author": extract_author(raw)}
    for source in (properties or {}, read_sidecar(path)):
        for key in _SIDECAR_FIELDS:
            if source.get(key):
                found[key] = normalize_date(source[key]) or source[key] if key == "date" else source[key]
    return found

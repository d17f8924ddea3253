"""Title, date and author taken from what a document shows, overridable by the user.

Only the header zone (the first few paragraphs) is searched for a date or a by-line, so a date
inside a photo caption or the body is never mistaken for the publication date. Unknown fields
stay blank rather than guessed.

Precedence, weakest first: the text < file properties (PDF/DOCX/HTML) < a row of
`<corpus>/metadata.csv` (columns file,title,date,author; `file` relative to the corpus folder)
< a sidecar `name.ext.meta.yaml|yml|json` next to the file. Empty override cells change nothing.
Override dates are normalised to ISO (YYYY-MM-DD, or YYYY-MM / YYYY when only that is known);
one that cannot be read as a date is an error for that document, never stored as typed.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from datetime import date as _date
from pathlib import Path

from ingest.clean import is_furniture
from rag.base.errors import InputError
from ingest.text import paragraphs
from rag.base.text import word_tokens

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
_MONTH_RE = r"(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
_ISO_DATE = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")  # "2025-11-03T08:00" too
_MDY_DATE = re.compile(_MONTH_RE + r"\s+(\d{1,2}),?\s+(\d{4})", re.IGNORECASE)
_DMY_DATE = re.compile(r"\b(\d{1,2})\s+" + _MONTH_RE + r",?\s+(\d{4})", re.IGNORECASE)
_AUTHOR_LINE = re.compile(r"^(?:author|written by|by)\s*:?\s+([A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3})\s*$", re.IGNORECASE)
_NAME_WITH_ROLE = re.compile(
    r"^([A-Z][a-z]+(?:[ -](?!(?:Senior|Research|Visiting|Non-resident)\b)[A-Z][a-z]+){1,2})\s+(?:Senior |Research |Visiting |Non-resident )*(?:Fellow|Professor|Director|Analyst|Researcher)\b"
)
_HEADER_PARAGRAPHS = 8
_SIDECAR_FIELDS = ("title", "date", "author")
CSV_NAME = "metadata.csv"
_SIDECAR_SUFFIXES = (".meta.json", ".meta.yaml", ".meta.yml")
_FILE_COLUMNS = ("file", "path", "source", "filename")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_MONTH_YEAR = re.compile("^" + _MONTH_RE + r",?\s+(\d{4})$", re.IGNORECASE)


class MetadataError(InputError):
    """A user-written override (sidecar or metadata.csv) that cannot be used; the message says why."""


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


def property_date(raw: str) -> str:
    """A date as tools write it in file properties: PDF "D:20251229..." and ISO datetimes
    "2025-12-29T08:00Z" (normalize_date wants a word boundary), else whatever normalize_date reads."""
    match = re.match(r"(?:D:)?(\d{4})-?(\d{2})-?(\d{2})", raw.strip())
    if match:
        try:
            return _date(*map(int, match.groups())).isoformat()
        except ValueError:
            pass
    return normalize_date(raw)  # some producers write "12/29/2025" or "Dec 29, 2025"


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


def override_date(value: object) -> str:
    """A user-given date as ISO: full dates in any form `normalize_date` reads, unambiguous
    numeric D/M/Y or M/D/Y, and partial dates (YYYY-MM, "October 2025", YYYY). Raises
    MetadataError for anything else, ambiguous 03/04/2025 included."""
    text = " ".join(str(value).split())
    if hasattr(value, "isoformat"):  # YAML reads 2025-12-29 as a date (or datetime)
        return str(value.isoformat())[:10]
    full = normalize_date(text)
    if full and len(text) <= 40:
        return full
    match = _NUMERIC_DATE.match(text)
    if match:
        a, b, y = (int(g) for g in match.groups())
        if a > 12 and b <= 12:
            a, b = b, a  # day first
        elif not (b > 12 and a <= 12):
            raise MetadataError(f"date '{text}' is ambiguous (day/month or month/day?); write it as YYYY-MM-DD")
        try:
            return _date(y, a, b).isoformat()
        except ValueError:
            pass
    match = _YEAR_MONTH.match(text)
    if match and 1 <= int(match.group(2)) <= 12:
        return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"
    match = _MONTH_YEAR.match(text)
    if match:
        return f"{int(match.group(2)):04d}-{_MONTHS[_full_month(match.group(1))]:02d}"
    if re.fullmatch(r"\d{4}", text):
        return text
    raise MetadataError(f"date '{text}' is not a date; write it as YYYY-MM-DD (or YYYY-MM, YYYY)")


def _clean_fields(data: dict, where: str) -> dict[str, str]:
    """title/date/author of an override, blanks dropped and the date normalised."""
    out: dict[str, str] = {}
    for key in _SIDECAR_FIELDS:
        value = data.get(key)
        if value is None or not str(value).strip():
            continue
        try:
            out[key] = override_date(value) if key == "date" else " ".join(str(value).split())
        except MetadataError as exc:
            raise MetadataError(f"{where}: {exc}") from None
    return out


def sidecar_path(path: Path) -> Path | None:
    for suffix in _SIDECAR_SUFFIXES:
        sidecar = path.with_name(path.name + suffix)
        if sidecar.is_file():
            return sidecar
    return None


def read_sidecar(path: Path) -> dict[str, str]:
    """`name.ext.meta.json` or `name.ext.meta.yaml` next to the file, if present."""
    sidecar = sidecar_path(path)
    if sidecar is None:
        return {}
    try:
        text = sidecar.read_text(encoding="utf-8-sig")
        if sidecar.name.endswith(".json"):
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text) or {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise MetadataError(f"cannot read {sidecar.name}: {exc}") from None
    except Exception as exc:  # yaml.YAMLError
        raise MetadataError(f"cannot read {sidecar.name}: {type(exc).__name__}: {exc}") from None
    if not isinstance(data, dict):
        raise MetadataError(f"{sidecar.name} must hold a mapping with title/date/author keys")
    return _clean_fields(data, sidecar.name)


# --------------------------------------------------------------------- <corpus>/metadata.csv


class MetadataTable:
    """The rows of one metadata.csv: cleaned fields per file, or the reason a row is unusable."""

    def __init__(self, rows: dict[str, dict[str, str]], row_errors: dict[str, str], error: str = ""):
        self.rows = rows
        self.row_errors = row_errors
        self.error = error  # the whole file is unusable (and ignored)

    def key(self, source: str) -> str:
        """What fingerprint() folds in: changes exactly when this file's row changes."""
        if source in self.row_errors:
            return "error:" + self.row_errors[source]
        row = self.rows.get(source)
        return json.dumps(row, sort_keys=True, ensure_ascii=False) if row else ""

    def overrides(self, source: str) -> dict[str, str]:
        if source in self.row_errors:
            raise MetadataError(self.row_errors[source])
        return dict(self.rows.get(source, {}))


_EMPTY_TABLE = MetadataTable({}, {})


def _norm_source(value: str) -> str:
    value = value.strip().replace("\\", "/")
    while value.startswith("./"):
        value = value[2:]
    return value


def parse_metadata_csv(data: bytes, name: str = CSV_NAME) -> MetadataTable:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # what Excel writes on Western Windows
    first_line = text.split("\n", 1)[0]
    delimiter = next((d for d in (",", ";", "\t") if d in first_line), ",")  # Excel in some locales: ';'
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        return MetadataTable({}, {}, f"{name} is empty")
    columns = [h.strip().lower() for h in header]
    file_col = next((columns.index(c) for c in _FILE_COLUMNS if c in columns), None)
    if file_col is None:
        return MetadataTable({}, {}, f"{name} has no 'file' column (header: {', '.join(header)}); "
                                     "expected file,title,date,author")
    if not any(c in columns for c in _SIDECAR_FIELDS):
        return MetadataTable({}, {}, f"{name} has none of the columns title, date, author")
    rows: dict[str, dict[str, str]] = {}
    errors: dict[str, str] = {}
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        record = dict(zip(columns, cells))
        source = _norm_source(record.get(columns[file_col], ""))
        if not source:
            continue
        try:
            rows[source] = _clean_fields(record, f"{name} line {line_no}")
            errors.pop(source, None)
        except MetadataError as exc:
            errors[source] = str(exc)
            rows.pop(source, None)
    return MetadataTable(rows, errors)


@functools.lru_cache(maxsize=16)
def _table_cached(path: str, mtime_ns: int, size: int) -> MetadataTable:
    return parse_metadata_csv(Path(path).read_bytes())


def metadata_table(root: Path | None) -> MetadataTable:
    """The metadata.csv of a corpus folder (an empty table when there is none). Cached until the
    file changes, so looking rows up for every document costs one read."""
    if root is None:
        return _EMPTY_TABLE
    path = Path(root) / CSV_NAME
    try:
        st = path.stat()
    except OSError:
        return _EMPTY_TABLE
    try:
        return _table_cached(str(path), st.st_mtime_ns, st.st_size)
    except OSError as exc:
        return MetadataTable({}, {}, f"cannot read {CSV_NAME}: {exc.strerror or exc}")


def document_metadata(
    raw: str, path: Path, properties: dict[str, str] | None = None, root: Path | None = None
) -> dict[str, str]:
    """Sidecar beats metadata.csv beats file properties (PDF/DOCX/HTML) beats what the text shows.

    Raises MetadataError when an override for this document is unusable."""
    found = {"title": extract_title(raw), "date": extract_date(raw), "author": extract_author(raw)}
    props = dict(properties or {})
    if props.get("date"):
        try:
            props["date"] = override_date(props["date"])
        except MetadataError:
            props.pop("date")  # a tool's odd date stamp is no reason to refuse the file
    csv_row = {}
    if root is not None:
        try:
            source = Path(path).relative_to(root).as_posix()
        except ValueError:
            source = ""
        csv_row = metadata_table(root).overrides(source) if source else {}
    for layer in (props, csv_row, read_sidecar(path)):
        for key in _SIDECAR_FIELDS:
            if layer.get(key):
                found[key] = layer[key]
    return found

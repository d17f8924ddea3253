"""The scope controls: which documents and publication dates the next question searches."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Sequence

from ui.markup import esc

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value: str | None, label: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if not _DATE.match(value):
        raise ValueError(f"{label} must look like YYYY-MM-DD (got “{value}”).")
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{label} is not a real date: “{value}”.") from None
    return value


def scope_filters(sources: Sequence[str] | None, date_from: str | None, date_to: str | None) -> dict | None:
    """The `filters` dict for Briefing.ask from the scope controls, or None for everything.
    Raises ValueError with a message for the user on a malformed date."""
    start = parse_date(date_from, "From date")
    end = parse_date(date_to, "To date")
    if start and end and start > end:
        raise ValueError(f"The date range is empty: {start} is after {end}.")
    chosen = [s for s in (sources or []) if s]
    if not chosen and not start and not end:
        return None
    return {"sources": chosen, "date_from": start, "date_to": end}


def scope_summary(sources: Sequence[str] | None, date_from: str | None, date_to: str | None, total: int) -> str:
    """One line saying what the next question will search (HTML, escaped)."""
    try:
        filters = scope_filters(sources, date_from, date_to)
    except ValueError as exc:
        return f'<div class="scope scope-bad">&#9888; {esc(exc)}</div>'
    if filters is None:
        return f'<div class="scope">Searching all {total} document{"s" if total != 1 else ""}.</div>'
    bits = []
    n = len(filters["sources"])
    bits.append(f"{n} of {total} documents" if n else f"all {total} documents")
    if filters["date_from"] or filters["date_to"]:
        bits.append(f"dated {esc(filters['date_from'] or '…')} to {esc(filters['date_to'] or '…')} "
                    "(undated documents left out)")
    return f'<div class="scope scope-on">Searching {", ".join(bits)}.</div>'

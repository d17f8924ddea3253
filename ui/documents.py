"""The Documents tab: what is indexed, the document pickers, and what happened to each upload."""

from __future__ import annotations

from typing import Iterable, Sequence

from ui.markup import esc


def document_choice(record) -> tuple[str, str]:
    """(label, value) for a document picker: the value is the source path used by filters."""
    title = record.title or record.source
    label = title if title == record.source else f"{title} — {record.source}"
    if record.date:
        label += f" ({record.date})"
    return label, record.source


def documents_table(records: Iterable) -> list[list]:
    return [[r.title or "", r.author or "", r.date or "", int(r.chunks), r.source] for r in records]


def documents_summary(records: Sequence, corpus: str, location: str) -> str:
    n = len(records)
    chunks = sum(int(r.chunks) for r in records)
    return (f'<div class="docs-summary">{n} document{"s" if n != 1 else ""} indexed ({chunks} passages) '
            f'in <code>{esc(location)}</code>. Uploads are saved to <code>{esc(corpus)}/uploads/</code>.</div>')


def upload_report_html(added: Sequence[str], updated: Sequence[str], unchanged: Sequence[str],
                       skipped: Sequence[tuple[str, str]]) -> str:
    """What happened to each uploaded file, escaped (file names come from the user)."""
    rows = []
    for name in added:
        rows.append(f'<li class="ok">&#10003; added: <code>{esc(name)}</code></li>')
    for name in updated:
        rows.append(f'<li class="ok">&#10003; updated (replaced an earlier upload): <code>{esc(name)}</code></li>')
    for name in unchanged:
        rows.append(f'<li class="muted">unchanged (already indexed): <code>{esc(name)}</code></li>')
    for name, reason in skipped:
        rows.append(f'<li class="bad">&#10007; skipped <code>{esc(name)}</code>: {esc(reason)}</li>')
    if not rows:
        return '<div class="upload-report muted">No files were uploaded.</div>'
    return f'<div class="upload-report"><ul>{"".join(rows)}</ul></div>'

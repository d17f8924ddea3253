"""The app's CSS (a module, not a .css file, so it ships with the package without package-data)."""

CSS = """
.gradio-container { max-width: 1600px !important; }
#app-head { margin: 0 0 2px 0; }
.app-head { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
.app-title { font-size: 1.25rem; font-weight: 600; }
.mode-badge { font-size: 0.8rem; font-weight: 600; padding: 2px 10px; border-radius: 999px;
  background: var(--color-accent-soft); color: var(--body-text-color);
  border: 1px solid var(--border-color-accent); }
.muted { color: var(--body-text-color-subdued); }

/* chat */
.chat-placeholder { max-width: 520px; margin: 0 auto; text-align: center; color: var(--body-text-color-subdued);
  line-height: 1.5; }
.chat-placeholder .ph-title { font-size: 1.1rem; font-weight: 600; color: var(--body-text-color); }
#chat .answer p, #chat .abstain p { margin: 0 0 0.5em 0; line-height: 1.55; }
#chat .answer p:last-child { margin-bottom: 0; }
#chat .answer ul, #chat .abstain ul { margin: 0.2em 0 0.4em 1.2em; padding: 0; }
#chat .answer li, #chat .abstain li { margin: 0.25em 0; line-height: 1.5; }
#chat .question { white-space: pre-wrap; font-weight: 600; }
a.cite { text-decoration: none; font-weight: 600; font-size: 0.85em; color: var(--color-accent) !important;
  padding: 0 2px; border-radius: 4px; cursor: pointer; white-space: nowrap; }
a.cite:hover, a.cite:focus { background: var(--color-accent-soft); text-decoration: underline; outline: none; }
a.cite.cite-unverified { color: #b45309 !important; }
.abstain { border: 1px dashed #94a3b8; border-left: 5px solid #64748b; border-radius: 8px;
  background: var(--background-fill-secondary); padding: 10px 14px; }
.abstain-head { font-weight: 600; margin-bottom: 6px; }
.abstain-icon { color: #64748b; }
.abstain-body { font-size: 0.95em; }
.warn { margin-top: 8px; padding: 6px 10px; border-radius: 6px; background: #fef3c7; color: #78350f;
  border: 1px solid #f59e0b; font-size: 0.9em; }
.warn ul { margin: 4px 0 0 1.2em; }
.unsupported { text-decoration: underline wavy #d97706; text-underline-offset: 3px;
  background: rgba(253, 230, 138, 0.25); }
.unsupported-flag { color: #b45309; margin-right: 2px; }
.notice { margin-top: 8px; font-size: 0.9em; color: var(--body-text-color-subdued); font-style: italic; }
.error { padding: 8px 12px; border-radius: 6px; background: #fee2e2; color: #7f1d1d; border: 1px solid #ef4444; }
.answer-meta { margin-top: 6px; font-size: 0.78em; color: var(--body-text-color-subdued); }
.answer.pending { color: var(--body-text-color-subdued); font-style: italic; }
.spinner { display: inline-block; width: 0.8em; height: 0.8em; border: 2px solid currentColor;
  border-right-color: transparent; border-radius: 50%; animation: briefing-spin 0.8s linear infinite;
  vertical-align: -0.1em; }
@keyframes briefing-spin { to { transform: rotate(360deg); } }
.cursor { animation: briefing-blink 1s step-end infinite; opacity: 0.6; }
@keyframes briefing-blink { 50% { opacity: 0; } }

#ask-bar { align-items: stretch; gap: 8px; }
#question textarea, #question input { font-size: 1rem; }
#chat-tools { align-items: center; gap: 8px; flex-wrap: nowrap; }
#scope-note { flex: 1 1 auto; min-width: 0; }
.scope { font-size: 0.85rem; color: var(--body-text-color-subdued); }
.scope-on { color: var(--color-accent); font-weight: 600; }
.scope-bad { color: #b91c1c; font-weight: 600; }

/* sources panel: fixed height, scrolls on its own, so nothing jumps while an answer streams */
#sources, #sources .html-container { padding: 0 !important; }
.src-panel { height: calc(100vh - 190px); min-height: 420px; overflow-y: auto; padding: 0 10px 12px 4px;
  border: 1px solid var(--border-color-primary); border-radius: 10px; background: var(--background-fill-primary); }
.src-empty { padding: 12px; }
.src-turn-head { position: sticky; top: 0; z-index: 1; background: var(--background-fill-primary);
  padding: 8px 6px; font-weight: 600; border-bottom: 1px solid var(--border-color-primary); margin-bottom: 8px; }
.src-turn.abstained .src-turn-head { color: #475569; }
.src-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px;
  margin: 0 0 10px 6px; background: var(--background-fill-primary); scroll-margin-top: 48px; }
.src-card.unverified { border-color: #f59e0b; border-left: 5px solid #f59e0b; }
.src-card.flash { animation: briefing-flash 1.6s ease-out; }
@keyframes briefing-flash { 0% { box-shadow: 0 0 0 3px var(--color-accent); } 100% { box-shadow: 0 0 0 0 transparent; } }
.src-card:focus { outline: none; }
.src-head { font-weight: 600; line-height: 1.35; }
.src-n { color: var(--color-accent); font-weight: 600; margin-right: 2px; }
.badge-unverified { margin-left: 8px; font-size: 0.78em; font-weight: 600; color: #92400e; background: #fef3c7;
  border: 1px solid #f59e0b; border-radius: 999px; padding: 1px 8px; white-space: nowrap; }
.src-meta { font-size: 0.8em; color: var(--body-text-color-subdued); margin: 3px 0 6px 0; }
.src-file { font-family: var(--font-mono); font-size: 0.95em; word-break: break-all; }
.src-passage { margin: 0; padding: 6px 10px; border-left: 3px solid var(--border-color-primary);
  white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.9em; line-height: 1.5; }
.src-panel mark, #chat mark { background: #fde68a; color: #1f2937; padding: 0 1px; border-radius: 2px; }
.src-context summary { cursor: pointer; font-size: 0.82em; color: var(--color-accent); margin-top: 6px; }
.src-context .ctx { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.82em; line-height: 1.45;
  max-height: 320px; overflow-y: auto; padding: 6px 8px; margin-top: 4px;
  background: var(--background-fill-secondary); border-radius: 6px; color: var(--body-text-color-subdued); }
.ctx-passage { color: var(--body-text-color); background: var(--color-accent-soft); }
.src-older { margin: 6px 0 6px 6px; }
.src-older > summary { cursor: pointer; font-size: 0.85em; color: var(--body-text-color-subdued); padding: 4px 0; }

/* collection answers: per-document table, "Sources differ", timeline (ui/collection.py) */
.coverage, .conflicts, .timeline { margin-top: 10px; font-size: 0.92em; }
.cov-table { width: 100%; border-collapse: collapse; }
.cov-table caption { text-align: left; font-weight: 600; padding: 0 0 4px 0; }
.cov-table th, .cov-table td { border-bottom: 1px solid var(--border-color-primary); padding: 5px 8px;
  text-align: left; vertical-align: top; line-height: 1.4; }
.cov-table thead th { font-size: 0.85em; color: var(--body-text-color-subdued); font-weight: 600; }
.cov-doc { font-weight: 600; min-width: 9em; width: 28%; }
.cov-said { width: 50%; }
.cov-date { white-space: nowrap; font-variant-numeric: tabular-nums; }
.cov-verdict { white-space: nowrap; font-weight: 600; }
.cov-yes { color: #15803d; }
.cov-no { color: #64748b; }
.cov-silent { background: var(--background-fill-secondary); }
.cov-quote { display: block; margin-bottom: 3px; }
.conflicts { border: 1px solid #f59e0b; border-left: 5px solid #f59e0b; border-radius: 8px; padding: 8px 12px;
  background: #fffbeb; color: #1f2937; }
.conflicts-head { font-weight: 600; color: #92400e; margin-bottom: 4px; }
.conflict + .conflict { margin-top: 10px; }
.conflict-about { font-weight: 600; margin-bottom: 4px; }
.conflict-sides { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 8px; }
.conflict-side { border: 1px solid #fcd34d; border-radius: 6px; padding: 6px 8px; background: #ffffff; }
.side-doc { font-weight: 600; }
.side-date { font-size: 0.85em; color: #475569; font-variant-numeric: tabular-nums; }
.side-value { font-size: 1.15em; font-weight: 700; margin: 2px 0; }
.side-quote { font-size: 0.92em; line-height: 1.45; }
.side-hit { background: #fde68a; padding: 0 2px; border-radius: 2px; }
.badge-newer { margin-left: 6px; font-size: 0.75em; font-weight: 600; color: #1e3a8a; background: #dbeafe;
  border: 1px solid #93c5fd; border-radius: 999px; padding: 0 7px; cursor: help; white-space: nowrap; }
.tl-head, .tl-undated-head { font-weight: 600; margin-bottom: 4px; }
.tl { list-style: none; margin: 0; padding: 0; }
.tl-item { display: grid; grid-template-columns: 6.5em 1fr; gap: 0 14px; position: relative; padding-bottom: 8px; }
.tl-date { font-weight: 600; font-variant-numeric: tabular-nums; text-align: right; padding-top: 1px; }
.tl-body { border-left: 2px solid var(--border-color-accent); padding-left: 12px; position: relative; }
.tl-body::before { content: ""; position: absolute; left: -6px; top: 5px; width: 10px; height: 10px;
  border-radius: 50%; background: var(--color-accent); }
.tl-doc { font-weight: 600; }
.tl-text { line-height: 1.45; }
.tl-change { margin-left: 6px; font-size: 0.8em; font-weight: 600; color: #92400e; background: #fef3c7;
  border: 1px solid #f59e0b; border-radius: 999px; padding: 0 7px; white-space: nowrap; }
.tl-undated { margin-top: 6px; padding-top: 4px; border-top: 1px dashed var(--border-color-primary); }
.tl-undated ul { margin: 0 0 0 1.2em; padding: 0; }
.src-dates { display: flex; flex-wrap: wrap; gap: 4px 6px; margin: 0 0 6px 0; font-size: 0.78em; }
.as-of, .date-note { border-radius: 999px; padding: 0 8px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-secondary); white-space: nowrap; }
.date-note { border-color: #93c5fd; background: #eff6ff; color: #1e3a8a; }
#chat-tools > #scope-all { flex: 0 0 220px !important; width: auto !important; min-width: 0 !important;
  padding: 0 6px !important; border: none !important; background: transparent !important;
  overflow: visible !important; }
#scope-all .checkbox-container { font-size: 0.85rem; font-weight: 600; }
#scope-all .info-text { font-size: 0.72rem; margin: 0; line-height: 1.25; }

/* documents tab */
.docs-summary { margin: 4px 0 8px 0; }
#docs-table * { font-family: var(--font) !important; }
.upload-report ul { margin: 6px 0; padding-left: 0; list-style: none; }
.upload-report li { margin: 2px 0; }
.upload-report .ok { color: #15803d; }
.upload-report .bad { color: #b91c1c; }
"""

"""The base layer every package may use, and which imports none of them: `settings` (the one
`Settings`), `errors` (the one error tree), `types` (the frozen boundary types `Answer`,
`Citation`, `Passage`, `Span`), `text` (the one tokenizer and sentence splitter), `markers` (the
one `[n]` parser) and `lexicon` (word lists kept as data files in `lexicons/`).

It lives inside `rag` because the design fixes the top-level folders; importing it runs only
`rag/__init__.py`, which imports nothing heavy until `ask()` is called.
"""

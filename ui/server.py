"""Serving the app: `launch(settings)` checks the bind address and auth, indexes the corpus on a
first start, serves `ui.app.build_app`, and warms the models up behind the first page load.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from rag.base.errors import ConfigError
from rag.base.net import is_loopback
from rag.base.settings import Settings
from ui.app import build_app

log = logging.getLogger("briefing.ui")


def parse_auth(value: str) -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("BRIEFING_UI_AUTH must look like user:password (both parts non-empty).")
    return user, password


def check_bind(settings: Settings) -> None:
    """Refuse to listen beyond localhost without auth unless explicitly allowed."""
    if is_loopback(settings.ui_host) or settings.ui_auth or settings.ui_allow_remote:
        return
    raise ConfigError(
        f"Refusing to listen on {settings.ui_host}: that makes the documents reachable from other machines "
        "without a password. Set BRIEFING_UI_AUTH=user:password, or BRIEFING_UI_ALLOW_REMOTE=true to allow it "
        "anyway, or use --host 127.0.0.1."
    )


def launch(settings: Settings | None = None, **launch_kwargs):
    """Start the app (blocking unless `prevent_thread_lock=True` is passed; then the running
    Blocks is returned: `.local_url`, `.close()`)."""
    from rag.pipeline import Briefing

    settings = settings or Settings()
    check_bind(settings)
    auth = parse_auth(settings.ui_auth)
    briefing = Briefing(settings)
    if briefing.store.count() == 0 and Path(settings.corpus).is_dir():
        from ingest.index import ingest

        print(f"The index is empty: indexing {settings.corpus} first ...", flush=True)
        report = ingest([Path(settings.corpus)], settings, store=briefing.store)
        print(report.summary(), flush=True)
    app = build_app(settings, briefing)

    def warm_up():  # load the embedding model, BM25 and (in LLM mode) the LLM client while the page loads
        try:
            briefing.warm_up()
        except Exception:
            log.exception("warm-up failed")

    options = dict(server_name=settings.ui_host, server_port=settings.ui_port, auth=auth,
                   auth_message="Briefing chat" if auth else None)
    options.update(launch_kwargs)
    blocking = not options.pop("prevent_thread_lock", False)
    app.launch(prevent_thread_lock=True, **options)
    # The page is served now; load the model and BM25 index behind it, so the first question is fast.
    threading.Thread(target=warm_up, daemon=True, name="briefing-warm-up").start()
    if blocking:
        app.block_thread()
    return app

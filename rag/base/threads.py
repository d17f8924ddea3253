"""Thread settings for processes that answer several questions at once (the web app, the API,
the MCP server)."""

from __future__ import annotations

import logging

log = logging.getLogger("briefing")


def one_blas_thread() -> bool:
    """Run numpy's BLAS (OpenBLAS) on one thread in this process; True if it could be set.

    A server answers several questions at once, one per request thread, so the cores are
    already busy; a question's GEMMs are small (a query is ~15 tokens), and OpenBLAS splitting
    each over its own threads adds a barrier per call that, with the request threads and other
    processes competing for the cores, waits a scheduler time slice: measured on a loaded 2-core
    machine, one ask took ~150 ms of CPU that way and ~20 ms single-threaded, and 8 concurrent
    asks were no faster than one. (Uploads embed bigger batches and lose some speed; they are rare.)
    threadpoolctl is how to change it at run time (OPENBLAS_NUM_THREADS only counts before numpy loads)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - an install without it keeps OpenBLAS's default
        log.warning("threadpoolctl is not installed: numpy's BLAS keeps its own threads, which slows "
                    "concurrent questions down (pip install threadpoolctl)")
        return False
    threadpool_limits(1, user_api="blas")  # called, not entered: the limit stays for the process
    return True

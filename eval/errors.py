"""Errors of the eval harness itself, as opposed to what it measures."""

from __future__ import annotations

from rag.base.errors import BriefingError


class HarnessError(BriefingError):
    """The eval itself could not run properly (exit 2), as opposed to a missed floor (exit 1)."""

    exit_code = 2

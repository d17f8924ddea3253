"""The prompts, kept as text files beside this module (`answer_system.txt`, `answer_user.txt`,
`condense.txt`), and the one way to fill their `{name}` placeholders."""

from __future__ import annotations

import functools
import re
from pathlib import Path

PROMPTS = Path(__file__).parent


@functools.lru_cache(maxsize=None)
def load_prompt(name: str) -> str:
    return (PROMPTS / name).read_text(encoding="utf-8")


def fill(template: str, **values: str) -> str:
    """`{name}` placeholders replaced in one pass (passage text may itself contain braces)."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group()), template)

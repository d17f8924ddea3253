"""The one error tree. Every message says what happened and what to do about it; the CLI prints
it without a traceback (exit code = `exit_code`), the UI shows it, `ask()` raises it.

    BriefingError                  root: anything the user can act on            exit 1
    ├── InputError                 a question, filter, file or override we cannot use   2
    ├── StoreError                 the index: empty, unreachable, built with another model  3
    ├── ConfigError                a setting that cannot work                          4
    ├── LLMError                   the LLM endpoint failed (answers fall back, with a notice)  5
    └── eval.errors.HarnessError   the eval itself could not run                       2
"""

from __future__ import annotations


class BriefingError(Exception):
    """An error the user can act on."""

    exit_code = 1


class InputError(BriefingError):
    """Bad input: an empty or over-long question, an unknown filter, a file that cannot be
    indexed, a metadata override that cannot be read."""

    exit_code = 2


class StoreError(BriefingError):
    """The index cannot be used: empty, unreachable server, or built with another model."""

    exit_code = 3


class ConfigError(BriefingError):
    """A setting that cannot work (a model folder that is not there, a bad combination)."""

    exit_code = 4


class LLMError(BriefingError):
    """Why the model gave no (complete) answer, in words for the notice under the answer."""

    exit_code = 5

    @property
    def reason(self) -> str:
        return str(self)

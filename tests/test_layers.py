"""The architecture as tests: the import-linter contract in pyproject.toml (layers, no circles),
the fixed bugs of the layering review, and docstrings that name only modules that exist."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "2 kept, 0 broken" in done.stdout


def test_base_layer_imports_nothing_above_it():
    code = ("import sys, rag.base.settings, rag.base.errors, rag.base.types, rag.base.text, rag.base.markers; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('ingest', 'ui', 'eval') "
            "or (m.startswith('rag.') and not m.startswith('rag.base'))); print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


_MODULE_REF = re.compile(r"`((?:rag|ingest|ui|eval)(?:\.\w+)+)`")


def _referenced_modules() -> list[tuple[str, str]]:
    refs = []
    for package in ("rag", "ingest", "ui", "eval"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in _MODULE_REF.findall(path.read_text(encoding="utf-8")):
                refs.append((str(path.relative_to(ROOT)), name))
    return refs


def _exists(dotted: str) -> bool:
    """A module, or an attribute of one ("rag.retrieval.passage_from")."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        obj = module
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_docstrings_name_only_modules_that_exist():
    refs = _referenced_modules()
    assert len(refs) > 10  # the scan finds the references it is meant to check
    missing = [f"{where}: {name}" for where, name in refs if not _exists(name)]
    assert not missing, missing


# --- bugs found by the layering review --------------------------------------------------------


def test_rag_retrieve_defaults_to_the_configured_top_k(settings):
    import rag
    import rag.pipeline  # loads the retrieval module: it must not shadow rag.retrieve()

    configured = settings.model_copy(update={"top_k": 3})
    assert len(rag.retrieve("What does FOIP stand for?", settings=configured)) == 3
    assert len(rag.retrieve("What does FOIP stand for?", k=5, settings=configured)) == 5


@pytest.mark.parametrize("argv, paths", [
    (["ingest", "eval", "corpus"], ["eval", "corpus"]),
    (["--data-dir", "x", "ingest", "bench", "corpus"], ["bench", "corpus"]),
])
def test_a_folder_named_like_a_subcommand_is_a_path(argv, paths):
    from rag import cli

    at = cli._command_index(argv)
    assert argv[at] == "ingest"
    assert cli.build_parser().parse_args(argv).paths == paths


def test_cli_ingest_indexes_every_folder_given(tmp_path):
    first, second = tmp_path / "eval", tmp_path / "corpus"
    for folder, name, text in ((first, "alpha.txt", "Alpha harbour report. The harbour fee rose in 2024."),
                               (second, "beta.txt", "Beta river report. The river fee fell in 2023.")):
        folder.mkdir()
        (folder / name).write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "rag", "--data-dir", str(tmp_path / "index"), "ingest",
                           "eval", "corpus", "--no-progress"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path),
                                            "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("2 added"), done.stdout


def test_errors_form_one_tree_with_exit_codes():
    from eval.errors import HarnessError
    from ingest.load import LoadError
    from ingest.metadata import MetadataError
    from rag.base import errors

    for cls in (errors.InputError, errors.StoreError, errors.ConfigError, errors.LLMError, HarnessError,
                LoadError, MetadataError):
        assert issubclass(cls, errors.BriefingError)
    codes = {cls.exit_code for cls in (errors.InputError, errors.StoreError, errors.ConfigError, errors.LLMError)}
    assert len(codes) == 4 and 0 not in codes

"""`briefing eval` end to end on a small gold file against the session index: report files,
exit codes (0 ok, 1 floor missed, 2 harness error), the baseline diff, the LLM judge plumbing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eval import cli
from eval.judge import Judge
from rag.base.types import Answer, Citation, Passage

try:  # tests/ is on sys.path under pytest's default "prepend" import mode
    from openai_stub import Reply, StubOpenAI
except ImportError:  # pragma: no cover - if tests/ ever becomes a package
    from tests.openai_stub import Reply, StubOpenAI

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "eval" / "sample_gold.jsonl"
LENIENT = ["--fail-under", "pass_rate=0.5", "key_fact_recall=0.5", "hit@5=0.5", "--fail-over", "false_answer_rate=0.6"]


def _main(args: list[str], settings, answerer=None) -> int:
    return cli.main([*args, "--no-progress"], settings=settings, answerer=answerer)


@pytest.fixture(scope="module")
def first_run(settings, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval-first")
    code = _main(["--gold", str(SAMPLE), "--out", str(out), *LENIENT], settings)
    return code, out


class AlwaysAbstains:
    """An `rag.answerer.Answerer` that never answers, whatever the evidence."""

    mode = "extractive"

    def answer(self, question, evidence):
        yield Answer(question=question, text="The documents don't answer this.", abstained=True)


class Crashes:
    mode = "extractive"

    def answer(self, question, evidence):
        raise RuntimeError("answerer crashed")
        yield  # a generator, as answerers are


def test_sample_gold_is_a_subset_of_the_gold_set():
    gold = {json.loads(line)["id"]: json.loads(line) for line in (ROOT / "eval" / "gold.jsonl").open() if line.strip()}
    sample = [json.loads(line) for line in SAMPLE.open() if line.strip()]
    assert 5 <= len(sample) <= 8 and sum(not r["answerable"] for r in sample) == 2
    assert all(gold[r["id"]]["question"] == r["question"] for r in sample)  # copies of gold records


def test_report_files_exist_and_parse(first_run):
    code, out = first_run
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    manifest = results["manifest"]
    assert len(manifest["gold"]["sha256"]) == 64 and manifest["gold"]["records"] == 6
    assert manifest["models"]["embedder"] == "all-MiniLM-L6-v2"
    assert "openai_api_key" in manifest["settings"]
    assert results["gate"]["passed"] and len(results["gate"]["checks"]) == 4
    assert set(results["questions"]) == {"q001", "q002", "q036", "q056", "q083", "q084"}
    for name in ("hit@5", "recall@5", "mrr", "evidence_hit@5", "key_fact_recall", "token_f1", "semantic_similarity",
                 "citation_validity", "citation_precision", "citation_recall", "false_answer_rate",
                 "over_refusal_rate", "latency_p50", "latency_p95"):
        assert name in results["totals"], name
    assert results["confusion"]["unanswerable_answered"] + results["confusion"]["unanswerable_abstained"] == 2
    assert "unanswerable" in results["per_tag"] and "factoid" in results["per_tag"]

    rows = [json.loads(line) for line in (out / "questions.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["q001", "q002", "q036", "q056", "q083", "q084"]
    for r in rows:
        assert {"question", "answer", "metrics", "pass", "reasons", "latency_s"} <= set(r)
        assert isinstance(r["answer"]["text"], str) and r["latency_s"] > 0

    md = (out / "report.md").read_text()
    assert md.startswith("# Eval report") and "## Totals" in md and "| key_fact_recall |" in md
    html = (out / "report.html").read_text()
    assert html.count('<img alt=') == 2 and '<img alt=\'metric bars\' src=\'data:image/png;base64,' in html
    assert "<script" not in html


def test_html_escapes_text(first_run, settings, tmp_path):
    gold = tmp_path / "gold.jsonl"
    rec = {"id": "<b>x</b>", "question": "What does FOIP <script>alert(1)</script> stand for?", "answerable": True,
           "key_facts": [["Free & Open"]], "sources": [], "evidence": [], "tags": ["<i>tag</i>"]}
    gold.write_text(json.dumps(rec) + "\n")
    assert _main(["--gold", str(gold), "--out", str(tmp_path / "out")], settings) == 0
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>x</b>" not in html and "<i>tag</i>" not in html and "Free &amp; Open" in html


def test_always_abstaining_answerer_fails_the_gate(settings, tmp_path, capsys):
    code = _main(["--gold", str(SAMPLE), "--out", str(tmp_path), *LENIENT], settings, AlwaysAbstains())
    assert code == 1
    results = json.loads((tmp_path / "results.json").read_text())
    failed = {g["metric"] for g in results["gate"]["checks"] if not g["ok"]}
    assert {"pass_rate", "key_fact_recall"} <= failed  # key_fact_recall: nothing answered -> n/a -> fails
    assert results["totals"]["over_refusal_rate"] == 1.0 and results["totals"]["key_fact_recall"] is None
    assert "gate FAIL pass_rate" in capsys.readouterr().out


def test_baseline_diff_names_the_questions_that_changed(first_run, settings, tmp_path, capsys):
    _, first = first_run
    before = json.loads((first / "results.json").read_text())["questions"]
    expected = sorted(q for q, v in before.items() if v["pass"] and q not in ("q083", "q084"))
    assert expected, "the offline answerer should pass some sample questions"
    capsys.readouterr()
    code = _main(["--gold", str(SAMPLE), "--out", str(tmp_path), "--baseline", str(first / "results.json")], settings,
                 AlwaysAbstains())
    assert code == 0  # no floors given: a diff alone never gates
    results = json.loads((tmp_path / "results.json").read_text())
    assert sorted(results["diff"]["pass_to_fail"]) == expected
    assert results["diff"]["fail_to_pass"] == [q for q in ("q083", "q084") if not before[q]["pass"]]
    out = capsys.readouterr().out
    assert f"pass -> fail ({len(expected)}): {' '.join(expected)}" in out
    md = (tmp_path / "report.md").read_text()
    assert "## Changes against the baseline" in md and all(f"- `{q}`" in md for q in expected)
    html = (tmp_path / "report.html").read_text()
    assert "Pass → fail" in html and all(f"href='#{q}'" in html for q in expected)
    # the bar chart compares against the baseline's totals, and the totals table shows the change
    assert "| baseline | change |" in md and "worse" in md

    # a questions.jsonl works as a baseline too, and so does the output folder
    assert _main(["--gold", str(SAMPLE), "--out", str(tmp_path / "b"), "--baseline", str(first / "questions.jsonl")],
                 settings, AlwaysAbstains()) == 0
    assert sorted(json.loads((tmp_path / "b" / "results.json").read_text())["diff"]["pass_to_fail"]) == expected
    assert _main(["--gold", str(SAMPLE), "--out", str(tmp_path / "c"), "--baseline", str(first)], settings,
                 AlwaysAbstains()) == 0


def test_thresholds_file_gates(settings, tmp_path):
    th = tmp_path / "thresholds"
    th.write_text("# comment\n\nhit@5 >= 0.5   # trailing comment\nfalse_answer_rate <= 0.99\n")
    assert _main(["--gold", str(SAMPLE), "--out", str(tmp_path / "a"), "--thresholds", str(th)], settings) == 0
    th.write_text("pass_rate >= 1.01\n")
    assert _main(["--gold", str(SAMPLE), "--out", str(tmp_path / "b"), "--thresholds", str(th)], settings) == 1


@pytest.mark.parametrize("problem", ["missing", "bad-json", "bad-schema", "duplicate", "empty"])
def test_harness_errors_exit_2(settings, tmp_path, problem, capsys):
    gold = tmp_path / "gold.jsonl"
    good = {"id": "a", "question": "What does FOIP stand for?", "answerable": True}
    content = {
        "bad-json": '{"id": "a", "question": \n',
        "bad-schema": json.dumps({**good, "answerable": "yes", "key_facts": [[1]]}) + "\n",
        "duplicate": json.dumps(good) + "\n" + json.dumps(good) + "\n",
        "empty": "\n",
    }
    if problem != "missing":
        gold.write_text(content[problem])
    assert _main(["--gold", str(gold), "--out", str(tmp_path / "out")], settings) == 2
    assert "eval error" in capsys.readouterr().err
    assert not (tmp_path / "out" / "results.json").exists()


def test_other_harness_errors_exit_2(settings, tmp_path):
    args = ["--gold", str(SAMPLE), "--out", str(tmp_path)]
    assert _main([*args, "--fail-under", "no_such_metric=1"], settings) == 2
    assert _main([*args, "--fail-under", "hit@5"], settings) == 2
    assert _main([*args, "--thresholds", str(tmp_path / "none")], settings) == 2
    assert _main([*args, "--corpus", str(tmp_path / "no-corpus")], settings) == 2
    assert _main([*args, "--baseline", str(tmp_path / "nothing.json")], settings) == 2
    assert _main([*args, "--judge"], settings) == 2  # no LLM configured
    assert _main([*args, "--no-such-option"], settings) == 2

    assert _main([*args, "--out", str(tmp_path / "crash")], settings, Crashes()) == 2
    rows = [json.loads(line) for line in (tmp_path / "crash" / "questions.jsonl").read_text().splitlines()]
    # Reports are still written; only questions whose evidence reached the answerer crashed.
    crashed = [r for r in rows if "error" in r["metrics"]]
    assert crashed and all("answerer crashed" in r["metrics"]["error"] for r in crashed)
    assert all(r["metrics"]["abstained"] for r in rows if r not in crashed)


def test_secrets_are_masked(settings, tmp_path):
    secret = settings.model_copy(update={"openai_api_key": "sk-very-secret", "ui_auth": "me:pw",
                                         "answer_mode": "extractive"})
    assert _main(["--gold", str(SAMPLE), "--out", str(tmp_path)], secret) == 0
    text = "".join(p.read_text() for p in tmp_path.iterdir())
    assert "sk-very-secret" not in text and "me:pw" not in text
    dump = json.loads((tmp_path / "results.json").read_text())["manifest"]["settings"]
    assert dump["openai_api_key"] == "***" and dump["ui_auth"] == "***"


def test_corpus_option_derives_its_own_data_dir(tmp_path, monkeypatch):
    from rag.base.settings import Settings

    monkeypatch.delenv("BRIEFING_DATA_DIR", raising=False)
    args = cli.build_parser().parse_args(["--corpus", str(ROOT / "corpus")])
    s = cli._resolve_settings(args, Settings(data_dir=tmp_path / "base"))
    assert s.corpus == ROOT / "corpus"
    assert s.data_dir.parent == tmp_path / "base" / "eval" and s.data_dir.name.startswith("corpus-")
    monkeypatch.setenv("BRIEFING_DATA_DIR", str(tmp_path / "mine"))
    s = cli._resolve_settings(args, Settings(data_dir=tmp_path / "mine"))
    assert s.data_dir == tmp_path / "mine"


def test_each_outside_set_gets_its_own_index_even_under_a_set_data_dir(tmp_path, monkeypatch):
    from rag.base.settings import Settings

    monkeypatch.setenv("BRIEFING_DATA_DIR", str(tmp_path / "mine"))
    base = Settings(data_dir=tmp_path / "mine")
    dirs = []
    for name in ("squad-gate", "hotpot-gate"):
        args = cli.build_parser().parse_args(["--set", name])
        cli._use_set(args, base)
        dirs.append(cli._resolve_settings(args, base).data_dir)
    assert dirs[0] != dirs[1] and all(d.parent == tmp_path / "mine" / "eval" for d in dirs)


def test_help_explains_the_gold_format(capsys):
    from rag.cli import main as cli_main

    assert cli_main(["eval", "--help"]) == 0
    out = capsys.readouterr().out
    for word in ("key_facts", "answerable", "evidence", "sources", "reference_answer", "--fail-under",
                 "--baseline", "exit status"):
        assert word in out, word
    proc = subprocess.run([sys.executable, "-m", "eval", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and "key_facts" in proc.stdout


# --------------------------------------------------------------------------- LLM judge


def _answer() -> Answer:
    p = Passage("c1", "d", "a.txt", "A", "", "FOIP means Free and Open Indo-Pacific.", 0, 40)
    return Answer(question="What does FOIP stand for?", text="Free and Open Indo-Pacific. [1]",
                  citations=(Citation(1, p),), passages=(p,))


RECORD = {"id": "q", "question": "What does FOIP stand for?", "answerable": True,
          "reference_answer": "Free and Open Indo-Pacific", "key_facts": [["Free and Open Indo-Pacific"]],
          "sources": [], "evidence": [], "tags": []}


def test_judge_verdicts_cached_and_unscored_on_bad_replies(settings, tmp_path):
    with StubOpenAI() as stub:
        s = settings.model_copy(update={"openai_base_url": stub.base_url, "openai_api_key": "test",
                                        "llm_model": "judge-model", "llm_max_retries": 0, "llm_timeout": 5})
        stub.script(Reply(content='Sure: ```json\n{"correct": true, "faithful": false}\n```'),
                    Reply(content="I think it is fine."), Reply(content='{"correct": "yes"}'), Reply(status=500))
        judge = Judge(s, tmp_path / "cache.jsonl")
        first = judge.verdict(RECORD, _answer())
        assert first == {"correct": True, "faithful": False, "status": "scored", "cached": False}
        request = stub.requests[0]
        assert request["temperature"] == 0 and request["model"] == "judge-model"
        # same input again: answered from the cache (also by a new Judge reading the cache file)
        assert Judge(s, tmp_path / "cache.jsonl").verdict(RECORD, _answer())["cached"] is True
        assert len(stub.requests) == 1
        other = dict(RECORD, question="Another question?")
        assert judge.verdict(other, _answer())["status"] == "unscored"  # prose
        assert judge.verdict(other, _answer())["status"] == "unscored"  # wrong types
        failed = judge.verdict(other, _answer())  # HTTP 500
        assert failed["status"] == "unscored" and "error" in failed
        assert len((tmp_path / "cache.jsonl").read_text().splitlines()) == 1


def test_judge_in_a_run_is_reported_but_not_gated(settings, tmp_path):
    with StubOpenAI() as stub:
        stub.default = Reply(content='{"correct": false, "faithful": true}')
        s = settings.model_copy(update={"openai_base_url": stub.base_url, "answer_mode": "extractive",
                                        "llm_max_retries": 0, "data_dir": settings.data_dir})
        code = _main(["--gold", str(SAMPLE), "--out", str(tmp_path), "--judge", *LENIENT], s)
    assert code == 0  # judge_correct is 0 but no floor names it
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["totals"]["judge_correct"] == 0.0 and results["totals"]["judge_faithful"] == 1.0
    assert results["manifest"]["models"]["judge"] == s.llm_model


def test_warns_about_unknown_sources_and_non_verbatim_evidence(settings, tmp_path, capsys):
    gold = tmp_path / "gold.jsonl"
    recs = [json.loads(line) for line in SAMPLE.open() if line.strip()][:2]
    recs[0]["evidence"] = ["a sentence that is in no document at all"]
    recs[1]["sources"] = ["not-indexed.txt"]
    gold.write_text("".join(json.dumps(r) + "\n" for r in recs))
    assert _main(["--gold", str(gold), "--out", str(tmp_path / "out")], settings) == 0
    warnings = json.loads((tmp_path / "out" / "results.json").read_text())["warnings"]
    assert any("not-indexed.txt" in w for w in warnings)
    assert any("not found verbatim" in w and recs[0]["id"] in w for w in warnings)
    assert "warning:" in capsys.readouterr().out

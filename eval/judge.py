"""The optional LLM judge (--judge): {correct, faithful} verdicts, cached per request."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

JUDGE_CACHE = "eval-judge-cache.jsonl"


class Judge:
    """Optional LLM verdicts {correct, faithful} for answered answerable questions.

    Temperature 0, one request per (model, prompt) ever: verdicts are cached by the sha256 of
    the request in `cache_path` (JSONL). A reply that is not the expected JSON, or a failed
    request, is "unscored" and not cached. Never part of the gate unless a floor names it.
    """

    SYSTEM = (
        "You grade answers to questions about a set of documents. Reply with only a JSON object "
        '{"correct": true|false, "faithful": true|false}. "correct": the answer states what the '
        "reference answer states (extra detail is fine; missing or contradicting it is not). "
        '"faithful": every claim of the answer is supported by the cited passages shown.'
    )

    def __init__(self, settings, cache_path: Path, client=None):
        self.settings = settings
        self.model = settings.llm_model
        self.cache_path = Path(cache_path)
        self._client = client
        self.cache: dict[str, dict] = {}
        if self.cache_path.is_file():
            for line in self.cache_path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                    self.cache[row["key"]] = row["verdict"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue

    @property
    def client(self):
        if self._client is None:
            from openai import OpenAI  # lazily: the default eval never needs it

            s = self.settings
            self._client = OpenAI(api_key=s.openai_api_key or "not-needed", base_url=s.openai_base_url or None,
                                  timeout=s.llm_timeout, max_retries=s.llm_max_retries)
        return self._client

    def messages(self, record: dict, answer) -> list[dict[str, str]]:
        facts = "; ".join(" / ".join(aliases) for aliases in record["key_facts"]) or "-"
        cited = "\n\n".join(f"[{c.n}] {c.passage.text}" for c in answer.citations) or "(none)"
        user = (f"Question: {record['question']}\n\nReference answer: {record['reference_answer'] or '-'}\n"
                f"Key facts: {facts}\n\nAnswer to grade:\n{answer.text}\n\nCited passages:\n{cited}")
        return [{"role": "system", "content": self.SYSTEM}, {"role": "user", "content": user}]

    @staticmethod
    def parse(content: str) -> dict | None:
        match = re.search(r"\{.*\}", content or "", re.S)
        if not match:
            return None
        try:
            data = json.loads(match.group())
        except json.JSONDecodeError:
            return None
        if not isinstance(data, dict) or not all(isinstance(data.get(k), bool) for k in ("correct", "faithful")):
            return None
        return {"correct": data["correct"], "faithful": data["faithful"]}

    def verdict(self, record: dict, answer) -> dict[str, Any]:
        messages = self.messages(record, answer)
        key = hashlib.sha256(json.dumps({"model": self.model, "temperature": 0, "messages": messages},
                                        sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        if key in self.cache:
            return {**self.cache[key], "status": "scored", "cached": True}
        try:
            reply = self.client.chat.completions.create(model=self.model, messages=messages, temperature=0)
            content = reply.choices[0].message.content or ""
        except Exception as exc:  # any client/server failure leaves the question unscored
            return {"status": "unscored", "error": f"{type(exc).__name__}: {exc}"[:300]}
        verdict = self.parse(content)
        if verdict is None:
            return {"status": "unscored", "error": f"unparseable reply: {content[:200]!r}"}
        self.cache[key] = verdict
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        with self.cache_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"key": key, "verdict": verdict}) + "\n")
        return {**verdict, "status": "scored", "cached": False}

"""`Briefing`: the composition root of the read side. It owns one configured pipeline (index,
embedder, retriever, condenser, answerer) and runs a question through it:

    question -> condense (follow-ups only) -> scope -> retrieve -> evidence -> abstain, or Answerer
             -> disagreements between documents -> relative dates resolved -> Answer

A question about the whole collection ("which briefs discuss X", scope "all") or about change
over time is answered per document instead (rag.collection): every document in scope is read.

Every part can be passed in (tests and the UI inject theirs through the constructor); the ones
not given are built from `settings` on first use, so `Briefing(settings)` is cheap and the model
loads only when a question needs it. Scripts use `rag.ask` / `rag.retrieve`, which share one.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any, Callable, Iterator

from rag.answerer import Answerer, last_answer, relay
from rag.base.errors import InputError, StoreError
from rag.base.settings import Settings
from rag.base.types import Answer, Passage
from rag.chat import ChatClient, OpenAIChat
from rag.condense import Condenser
from rag.evidence import PASSAGES_READ, gather
from rag.answerability import AnswerCheck, build_check
from rag.collection import CollectionAnswerer
from rag.differences import dated, with_conflicts
from rag.scope import attributes_to_a_source, check_scope, read_scope
from rag.extractive import ExtractiveAnswerer, abstention
from rag.compared import compared_hop
from rag.hops import second_hop
from rag.retrieval import Retriever

_UNSET: Any = object()


class Briefing:
    def __init__(self, settings: Settings | None = None, *, store=None, embedder=None,
                 retriever: Retriever | None = None, chat: ChatClient | None = _UNSET,
                 answerer: Answerer | None = None, condenser: Condenser | None = None,
                 answer_check: AnswerCheck | None = _UNSET):
        self.settings = settings or Settings()
        self._parts: dict[str, Any] = {"store": store, "embedder": embedder, "retriever": retriever,
                                       "answerer": answerer, "condenser": condenser}
        if chat is not _UNSET:
            self._parts["chat"] = chat
        if answer_check is not _UNSET:
            self._parts["answer_check"] = answer_check
        self._lock = threading.RLock()  # concurrent first questions build each part once

    def _part(self, name: str, build: Callable[[], Any]) -> Any:
        if self._parts.get(name) is None:
            with self._lock:
                if self._parts.get(name) is None:
                    self._parts[name] = build()
        return self._parts[name]

    # --- the parts -------------------------------------------------------------------------

    @property
    def store(self):
        from ingest.store import Store

        return self._part("store", lambda: Store(self.settings))

    @property
    def embedder(self):
        from ingest.embed import load_embedder

        return self._part("embedder", lambda: load_embedder(self.settings.embed_model))

    @property
    def retriever(self) -> Retriever:
        return self._part("retriever", lambda: Retriever(self.settings, self.store,
                                                         lambda text: self.embedder.embed_query(text),
                                                         lambda texts: self.embedder.embed(texts)))

    @property
    def chat(self) -> ChatClient | None:
        """The LLM client in LLM mode with an endpoint configured, else None."""
        if "chat" not in self._parts:
            s = self.settings
            with self._lock:
                self._parts.setdefault("chat", OpenAIChat(s) if s.resolved_answer_mode == "llm" and s.llm_configured
                                       else None)
        return self._parts["chat"]

    @property
    def answer_check(self) -> AnswerCheck | None:
        """The learned answerability check `settings.answer_check` names, or None (off, or not trained)."""
        if "answer_check" not in self._parts:
            with self._lock:
                self._parts.setdefault("answer_check", build_check(self.settings.answer_check))
        return self._parts["answer_check"]

    @property
    def answerer(self) -> Answerer:
        return self._part("answerer", self._build_answerer)

    def _build_answerer(self) -> Answerer:
        from rag.llm import LLMAnswerer
        from rag.verify import Verifier

        extractive = ExtractiveAnswerer(self.settings.answer_sentences)
        if self.settings.resolved_answer_mode != "llm":
            return extractive
        verifier = Verifier(self.embedder, self.store.sentences_of)
        return LLMAnswerer(self.chat, verifier, extractive)

    @property
    def condenser(self) -> Condenser:
        return self._part("condenser", lambda: Condenser(self.chat, self.settings.max_question_chars,
                                                         self.settings.llm_timeout))

    def warm_up(self) -> int:
        """Load what the first question would (the index snapshot with BM25, the embedding model,
        the LLM client in LLM mode), so a server's first answer is fast. Returns the number of
        indexed chunks; with none, only the LLM client is loaded."""
        count = self.store.count()
        if count:
            self.retriever.snapshot()
            self.embedder.embed_query("warm up")
        if self.chat is not None:
            self.chat.warm_up()  # importing the openai SDK takes a moment
        return count

    def invalidate(self) -> None:
        """The index changed in this process (an upload, a removal): the next question sees it
        at once instead of after the retriever's fingerprint check."""
        retriever = self._parts.get("retriever")
        if retriever is not None:
            retriever.invalidate()

    # --- questions -------------------------------------------------------------------------

    def check_question(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InputError("The question is empty. Type a question about the documents.")
        question = " ".join(question.split())
        if len(question) > self.settings.max_question_chars:
            raise InputError(
                f"The question is {len(question)} characters long; the limit is "
                f"{self.settings.max_question_chars}. Ask something shorter (BRIEFING_MAX_QUESTION_CHARS raises it)."
            )
        return question

    def _require_index(self) -> None:
        # The read cache lists committed documents only: chunks written by an ingest still running
        # (or one that crashed before committing) are no documents yet. (Chroma's count() costs
        # ~40 ms at 100k chunks; the document list is at hand.)
        if not self.retriever.documents():
            raise StoreError(
                f"The index in {self.store.location} is empty. Run `briefing ingest` (or `make run`) first."
            )

    def retrieve(self, question: str, k: int | None = None, filters: Any = None) -> list[Passage]:
        question = self.check_question(question)
        self._require_index()
        return self.retriever.retrieve(question, k, filters).passages

    def ask(self, question: str, history: list | None = None, filters: Any = None, scope: str = "auto") -> Answer:
        return last_answer(self.ask_stream(question, history, filters, scope))

    def ask_stream(self, question: str, history: list | None = None, filters: Any = None,
                   scope: str = "auto") -> Iterator[str | Answer]:
        """Text deltas as the answer is written, then the final `Answer`. `scope` "all" answers per
        document over every document in scope, "top" from the best passages; "auto" (default)
        decides from the question ("which documents ...", "what changed since ...")."""
        question = self.check_question(question)
        check_scope(scope)
        self._require_index()
        started = time.perf_counter()
        timings: dict[str, float] = {}
        standalone = question
        if history:
            # A follow-up is made standalone first; only that question reaches retrieval and the
            # answerer (the conversation itself is never evidence). Answer.question stays as asked.
            t0 = time.perf_counter()
            standalone = self.condenser.condense(question, history)
            timings["condense"] = time.perf_counter() - t0
        asked = read_scope(standalone, scope, self.retriever.newest_date)
        # "..., according to Tokuchi?" names its one source: a question about that document,
        # whatever its wording, unless the caller asked for every document.
        if (asked.collection and scope == "auto" and attributes_to_a_source(standalone)
                and self.retriever.named_docs(standalone, sources_only=True)):
            asked = dataclasses.replace(asked, collection=False, change=False)
        if asked.collection:
            answer = CollectionAnswerer(self.retriever).answer(standalone, asked, filters, self.answerer.mode)
            yield answer.text
            timings.update(answer.timings, total=time.perf_counter() - started)
            yield dataclasses.replace(answer, question=question, timings={k: round(v, 4) for k, v in timings.items()})
            return
        retrieval = self.retriever.retrieve(standalone, self.settings.top_k, filters)
        # A bridge question's answer sits in a passage about an entity the first passages name.
        retrieval = second_hop(self.retriever, retrieval, self.settings.top_k, filters)
        # A comparison needs a passage about each thing compared.
        retrieval = compared_hop(self.retriever, retrieval, self.settings.top_k, filters, read=PASSAGES_READ)
        # The evidence reads the index version the passages came from, even if a newer one
        # arrived meanwhile.
        evidence = gather(retrieval, retrieval.snapshot or self.retriever.snapshot(), self.answer_check)
        timings.update(retrieval.timings)
        answerer = self.answerer
        if evidence.abstain:
            answer = abstention(evidence, standalone, mode=answerer.mode)
            yield answer.text
        else:
            answer = yield from relay(answerer.answer(standalone, evidence))
            answer = dated(answer)
            sourced = with_conflicts(answer, evidence)
            if sourced.text != answer.text:
                yield sourced.text[len(answer.text):]  # the "Sources differ" note, after the answer
            answer = sourced
        timings.update(answer.timings)  # the answerer's own (LLM: generation and verification)
        timings["total"] = time.perf_counter() - started
        yield dataclasses.replace(answer, question=question, timings={k: round(v, 4) for k, v in timings.items()})

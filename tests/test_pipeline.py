"""The seams of `Briefing`: parts given to the constructor are the ones used."""

from __future__ import annotations

from rag.base.types import Answer
from rag.pipeline import Briefing

FOIP = "What does FOIP stand for?"


class EchoAnswerer:
    mode = "echo"

    def __init__(self):
        self.seen = []

    def answer(self, question, evidence):
        self.seen.append((question, len(evidence.passages)))
        yield "echo "
        yield Answer(question=question, text=f"echo {question}", mode=self.mode)


class ScriptedChat:
    """A ChatClient that answers from a script, with no HTTP at all."""

    model = "scripted"

    def __init__(self, reply: str):
        self.reply = reply
        self.calls = []

    def stream(self, messages, max_tokens):
        self.calls.append(messages)
        yield from self.reply.split(" ")[:1]
        yield " " + " ".join(self.reply.split(" ")[1:])

    def complete(self, messages, max_tokens, timeout):
        raise AssertionError("no follow-up in this test")


def test_an_injected_answerer_gets_the_evidence_and_shapes_the_answer(briefing, settings):
    echo = EchoAnswerer()
    b = Briefing(settings, store=briefing.store, embedder=briefing.embedder, retriever=briefing.retriever,
                 answerer=echo)
    items = list(b.ask_stream(FOIP))
    assert items[0] == "echo " and items[-1].text == f"echo {FOIP}" and items[-1].mode == "echo"
    assert echo.seen == [(FOIP, settings.top_k)]
    assert "total" in items[-1].timings


def test_an_injected_chat_client_writes_llm_answers_that_are_still_verified(briefing, settings):
    passages = briefing.retrieve(FOIP)
    n = next(i for i, p in enumerate(passages[:6], 1) if "Free and Open Indo-Pacific" in p.text)
    chat = ScriptedChat(f"FOIP stands for a Free and Open Indo-Pacific [{n}]. Japan will annex the Moon [{n}].")
    llm_settings = settings.model_copy(update={"answer_mode": "llm"})
    b = Briefing(llm_settings, store=briefing.store, embedder=briefing.embedder, retriever=briefing.retriever,
                 chat=chat)
    answer = b.ask(FOIP)
    assert len(chat.calls) == 1 and answer.mode == "llm" and answer.model == "scripted"
    assert answer.unsupported == ("Japan will annex the Moon.",)
    assert [c.verified for c in answer.citations] == [False]  # its one passage is cited for both


class _Recorder:
    """Stands in for the retriever and the embedder: records what warm-up asked of it."""

    def __init__(self):
        self.calls = []

    def snapshot(self):
        self.calls.append("snapshot")

    def embed_query(self, text):
        self.calls.append("embed_query")


def test_warm_up_loads_the_snapshot_and_the_model_when_there_is_an_index(briefing, settings, tmp_path):
    recorder = _Recorder()
    warmed = Briefing(settings, store=briefing.store, retriever=recorder, embedder=recorder, chat=None)
    assert warmed.warm_up() == briefing.store.count() > 0
    assert recorder.calls == ["snapshot", "embed_query"]

    empty_recorder = _Recorder()
    empty = Briefing(settings.model_copy(update={"data_dir": tmp_path}), retriever=empty_recorder,
                     embedder=empty_recorder, chat=None)
    assert empty.warm_up() == 0 and empty_recorder.calls == []

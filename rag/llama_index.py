"""briefing-chat inside llama-index: our retrieval as a `BaseRetriever`, our cited answers as a query engine.

    from rag.llama_index import BriefingRetriever, BriefingQueryEngine
    nodes = BriefingRetriever(k=5).retrieve("What does FOIP stand for?")
    response = BriefingQueryEngine().query("What does FOIP stand for?")

Both build their own `Briefing` from `Settings()` (BRIEFING_* environment variables) on first use
unless one is passed in. Nodes are `TextNode`s holding the passage text, with its offsets in the
document (`start`..`end`, where its first sentence begins and its last ends; page furniture in
between is left out of the text); the query engine's `source_nodes` are the passages the answer cites,
in citation order, each carrying its `[n]`, cited spans and verification verdict.

Nothing here touches `llama_index.core.Settings`: no LLM or embedding model of llama-index's is
needed by these classes, so none is configured or downloaded on a user's behalf.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

try:
    from llama_index.core.base.base_query_engine import BaseQueryEngine
    from llama_index.core.base.response.schema import Response
    from llama_index.core.callbacks.base import CallbackManager
    from llama_index.core.prompts.mixin import PromptMixinType
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
except ImportError as exc:  # an optional dependency: say how to get it, not just which module is missing
    raise ImportError(
        "rag.llama_index needs llama-index-core: pip install 'briefing-chat[llama-index]'"
    ) from exc

from rag.base.settings import Settings
from rag.base.types import Answer, Citation, Passage

if TYPE_CHECKING:
    from rag.pipeline import Briefing

__all__ = ["BriefingRetriever", "BriefingQueryEngine"]

# Offsets and ids locate a passage for code; shown to an LLM or embedded they are only noise.
_MACHINE_KEYS = ["chunk_id", "doc_id", "start", "end", "n", "spans", "verified"]


class _LazyBriefing:
    """The `Briefing` given, or one built from `settings` / `Settings()` on first use, so that
    constructing a retriever or engine reads no environment and loads no index."""

    def __init__(self, briefing: Briefing | None, settings: Settings | None):
        self._briefing = briefing
        self._settings = settings

    def get(self) -> Briefing:
        if self._briefing is None:
            from rag.pipeline import Briefing  # the composition root loads only when a question needs it

            self._briefing = Briefing(self._settings or Settings())
        return self._briefing


def passage_metadata(passage: Passage) -> dict[str, Any]:
    """The passage's provenance as node metadata (flat values, as llama-index vector stores expect)."""
    return {"source": passage.source, "title": passage.title, "date": passage.date, "doc_id": passage.doc_id,
            "chunk_id": passage.chunk_id, "author": passage.author, "page": passage.page,
            "start": passage.start, "end": passage.end}


def passage_node(passage: Passage, extra: dict[str, Any] | None = None) -> NodeWithScore:
    """A `TextNode` (id = chunk id, the passage's char offsets into its document) scored as we ranked it."""
    node = TextNode(id_=passage.chunk_id, text=passage.text, metadata={**passage_metadata(passage), **(extra or {})},
                    start_char_idx=passage.start, end_char_idx=passage.end,
                    excluded_llm_metadata_keys=list(_MACHINE_KEYS), excluded_embed_metadata_keys=list(_MACHINE_KEYS))
    return NodeWithScore(node=node, score=passage.score)


def citation_node(citation: Citation) -> NodeWithScore:
    """The cited passage's node, with the marker number, the cited sentences and the verdict."""
    return passage_node(citation.passage, {
        "n": citation.n,
        "verified": citation.verified,
        "spans": [{"start": s.start, "end": s.end, "text": s.text} for s in citation.spans],
    })


def answer_response(answer: Answer) -> Response:
    """A llama-index `Response`: our text with `[n]` markers, the cited passages as source nodes."""
    return Response(response=answer.text, source_nodes=[citation_node(c) for c in answer.citations],
                    metadata={"abstained": answer.abstained, "briefing": answer.to_dict()})


class BriefingRetriever(BaseRetriever):
    """Our hybrid retrieval as a llama-index retriever: the `k` best passages as `NodeWithScore`."""

    def __init__(self, briefing: Briefing | None = None, k: int = 5, settings: Settings | None = None,
                 callback_manager: CallbackManager | None = None):
        super().__init__(callback_manager=callback_manager)
        self._briefing = _LazyBriefing(briefing, settings)
        self.k = k

    @property
    def briefing(self) -> Briefing:
        return self._briefing.get()

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [passage_node(p) for p in self.briefing.retrieve(query_bundle.query_str, self.k)]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        # llama-index's default runs _retrieve on the event loop; retrieval is CPU and disk work.
        return await asyncio.to_thread(self._retrieve, query_bundle)


class BriefingQueryEngine(BaseQueryEngine):
    """Our cited answers as a llama-index query engine: `query()` returns a `Response` whose
    `source_nodes` are the cited passages and whose metadata holds `abstained` and `Answer.to_dict()`
    under "briefing". The answer is ours (extractive, or the configured LLM), not a llama-index LLM's."""

    def __init__(self, briefing: Briefing | None = None, settings: Settings | None = None,
                 callback_manager: CallbackManager | None = None):
        super().__init__(callback_manager=callback_manager)
        self._briefing = _LazyBriefing(briefing, settings)

    @property
    def briefing(self) -> Briefing:
        return self._briefing.get()

    def _get_prompt_modules(self) -> PromptMixinType:
        return {}  # our prompts are not llama-index prompt templates

    def _query(self, query_bundle: QueryBundle) -> Response:
        return answer_response(self.briefing.ask(query_bundle.query_str))

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return await asyncio.to_thread(self._query, query_bundle)

"""The read cache (ingest.readcache) against the real index: it holds what Chroma holds, its BM25
agrees with bm25s, it is updated document by document, and a reader keeps a consistent view."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from ingest.index import ingest
from ingest.readcache import ReadCache
from ingest.store import Store
from rag.base.settings import Settings
from rag.base.text import terms
from rag.bm25 import BM25Index
from rag.snapshot import CorpusSnapshot


@pytest.fixture()
def own_index(tmp_path, corpus_copy, embedder):
    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_copy, corpus)
    settings = Settings(data_dir=tmp_path / "index", corpus=corpus, answer_mode="extractive",
                        openai_api_key="", openai_base_url="")
    assert ingest([corpus], settings, progress=False).ok
    return settings, corpus


def test_the_cache_holds_every_committed_row_as_chroma_does(settings):
    store = Store(settings)
    corpus = ReadCache(store).sync()
    ids, texts, metas, vectors = store.all_rows("chunks")
    by_id = dict(zip(ids, zip(texts, metas, vectors)))
    assert sorted(corpus.chunk_ids) == sorted(ids)
    snapshot = CorpusSnapshot(corpus, settings.memory_index_rows)
    got = snapshot.get_chunks(ids)
    for cid in ids:
        text, meta, vector = by_id[cid]
        assert got[cid][0] == text
        assert {k: got[cid][1][k] for k in ("doc_id", "start", "end", "index")} == {k: meta[k] for k in ("doc_id", "start", "end", "index")}
        assert np.allclose(corpus.chunk_vectors[corpus.chunk_ids.index(cid)], vector, atol=1e-6)
    s_ids, s_texts, s_metas, s_vectors = store.all_rows("sentences")
    metas, matrix = snapshot.sentences_of(ids)
    assert sorted(m["id"] for m in metas) == sorted(s_ids)
    stored = {i: (t, m, v) for i, t, m, v in zip(s_ids, s_texts, s_metas, s_vectors)}
    for meta, vector in zip(metas, matrix):
        text, original, v = stored[meta["id"]]
        assert meta["text"] == text and (meta["start"], meta["end"]) == (original["start"], original["end"])
        assert np.allclose(vector, v, atol=1e-6)


def test_bm25_scores_are_those_of_bm25s(settings):
    import bm25s

    store = Store(settings)
    corpus = ReadCache(store).sync()
    ours = BM25Index(corpus)
    tokenized = [terms(corpus.text("chunk_text", i)) or ["\x00"] for i in range(len(corpus.chunk_ids))]
    reference = bm25s.BM25()
    reference.index(tokenized, show_progress=False)
    for question in ("Komeito coalition", "defense spending 2% of GDP", "Takaichi Takaichi Trump summit", "高市"):
        query = [t for t in terms(question) if ours.known(t)]
        if not query:
            continue
        assert np.allclose(ours.scores(query), reference.get_scores(query), rtol=1e-4, atol=1e-5), question


def test_a_change_reads_only_the_changed_document_and_equals_a_fresh_build(own_index, tmp_path):
    settings, corpus = own_index
    store = Store(settings)
    assert ReadCache(store).open().generation == store.fingerprint()  # ingest left it current
    cache = ReadCache(store, tmp_path / "own")  # a reader's own copy, as on another machine
    before = cache.sync()
    assert cache.fetched_docs == 5
    path = corpus / "korea-herald-takaichi-supermajority-seoul.txt"
    path.write_text(path.read_text() + "\n\nA new closing paragraph about harbour cranes.\n")
    (corpus / "takaichi-coalition-security-trump-talks.txt").unlink()
    report = ingest([corpus], settings, progress=False)
    assert report.updated and report.removed
    after = cache.sync()
    assert cache.fetched_docs == 1  # only the changed document came back from Chroma
    assert ReadCache(store).open().generation == store.fingerprint()
    assert after.generation != before.generation
    fresh = ReadCache(store, tmp_path / "fresh").sync()
    assert after.chunk_ids == fresh.chunk_ids and after.docs == fresh.docs
    assert np.array_equal(np.asarray(after.sent_vectors), np.asarray(fresh.sent_vectors))
    a, b = BM25Index(after), BM25Index(fresh)
    for question in ("harbour cranes", "Komeito", "Seoul Tokyo relations"):
        query = [t for t in terms(question) if b.known(t)]
        assert np.allclose(a.scores(query), b.scores(query)), question
    assert "takaichi-coalition-security-trump-talks.txt" not in {d["source"] for d in after.docs}
    # A process still reading the previous version keeps a consistent view.
    old = CorpusSnapshot(before, settings.memory_index_rows)
    assert len(old.get_chunks(before.chunk_ids)) == len(before.chunk_ids)


def test_an_unchanged_index_is_opened_not_rebuilt(settings):
    store = Store(settings)
    first = ReadCache(store).sync()
    cache = ReadCache(store)
    again = cache.sync()
    assert again.folder == first.folder and cache.fetched_docs == 0


def test_a_failed_sync_leaves_the_previous_version_usable(own_index, tmp_path):
    settings, corpus = own_index
    store = Store(settings)
    folder = tmp_path / "reader"
    good = ReadCache(store, folder).sync()
    (corpus / "extra.txt").write_text("A short new brief.\n\nThe harbour opened a second berth in May 2024.\n")
    assert ingest([corpus], settings, progress=False).ok

    class Broken(ReadCache):
        def _fetch(self, records):
            raise RuntimeError("the server went away")

    with pytest.raises(RuntimeError):
        Broken(store, folder).sync()
    assert ReadCache(store, folder).open().folder == good.folder  # the manifest still names the good version
    assert sorted(p.name for p in good.folder.parent.glob("v-*")) == [good.folder.name]


def test_large_indexes_search_sentences_of_the_nearest_chunks(settings, briefing):
    """Past memory_index_rows the sentence signal comes from the nearest chunks' sentences: the
    top sentence of a precise question is still found."""
    small = CorpusSnapshot(ReadCache(Store(settings)).sync(), settings.memory_index_rows)
    large = CorpusSnapshot(small.corpus, memory_rows=10)
    assert small.in_memory and not large.in_memory
    vector = briefing.embedder.embed_query("What does FOIP stand for?")
    assert small.dense("sentences", vector, 3, None)[0][0] == large.dense("sentences", vector, 3, None)[0][0]

"""All configuration in one object, built once at an entry point and passed down.

Every field can be set from the environment as `BRIEFING_<FIELD>` (e.g. `BRIEFING_DATA_DIR`);
the OpenAI fields also read the conventional `OPENAI_API_KEY` / `OPENAI_BASE_URL`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BRIEFING_", extra="ignore", populate_by_name=True)

    # --- where things live -------------------------------------------------------------
    data_dir: Path = Field(Path(".briefing"), description="Folder holding the Chroma index.")
    corpus: Path = Field(Path("corpus"), description="Default folder of documents to ingest.")
    collection: str = Field("briefing", description="Name prefix of the Chroma collections.")
    chroma_host: str = Field("", description="Chroma server host; when set, use HttpClient instead of a local index.")
    chroma_port: int = Field(8000, description="Chroma server port (with chroma_host).")

    # --- ingest --------------------------------------------------------------------------
    embed_model: str = Field(
        "all-MiniLM-L6-v2",
        description="Embedding model: the bundled all-MiniLM-L6-v2, or a folder with the same files.",
    )
    chunk_words: int = Field(180, description="Target chunk size in words (chunks end on sentence boundaries).")
    chunk_overlap_sentences: int = Field(1, description="Sentences shared between consecutive chunks.")
    embed_batch_size: int = Field(64, description="Texts per embedding batch.")
    ingest_workers: int = Field(
        0, ge=0, description="Processes that embed during ingest while it reads the next files and writes the "
        "index: 0 = one per CPU core (at most 8), 1 = embed in the ingesting process itself (serial). Jobs of "
        "under ~1000 sentences are always embedded serially: starting the workers would cost more than it saves.",
    )
    max_document_mb: float = Field(
        10, description="Most text indexed from one document, in MB; bigger files are reported, not indexed."
    )
    ingest_lock_ttl: float = Field(
        30.0, gt=0, description="Seconds without a heartbeat after which an ingest's lock on a Chroma server "
        "counts as abandoned (its writer crashed) and a waiting ingest takes it over; the holder refreshes it "
        "every ttl/5 s (ingest/lock.py). A local index needs none: the OS frees its lock when the writer ends.",
    )

    # --- retrieval and answering ----------------------------------------------------------
    top_k: int = Field(8, description="Passages returned by retrieve() and used by ask().")
    memory_index_rows: int = Field(
        200_000,
        description="Up to this many indexed sentences, retrieval keeps all vectors in memory "
        "(fastest); beyond it, it queries Chroma's vector index.",
    )
    answer_mode: Literal["auto", "extractive", "llm"] = Field(
        "auto", description="auto = LLM when an API key or base URL is configured, else extractive."
    )
    max_question_chars: int = Field(1000, description="Longest question accepted.")
    answer_sentences: int = Field(4, description="Most sentences in an extractive answer.")
    answer_check: Literal["reader", "features", "off"] = Field(
        "off", description="The learned answerability check the offline answer must also pass: reader = "
        "the fine-tuned cross-encoder (rag/models/reader.npz; about 40 ms a question; more right and "
        "somewhat more wrong abstentions, README 'How it works'), features = the logistic regression over "
        "question/sentence features (rag/models/answerability.json), off = the rule checks only."
    )

    # --- LLM (issue: answers written by an OpenAI-compatible model) ----------------------
    openai_api_key: str = Field(
        "",
        validation_alias=AliasChoices("BRIEFING_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="API key for the OpenAI-compatible endpoint.",
    )
    openai_base_url: str = Field(
        "",
        validation_alias=AliasChoices("BRIEFING_OPENAI_BASE_URL", "OPENAI_BASE_URL"),
        description="Base URL of any OpenAI-compatible server (Ollama, vLLM, llama.cpp ...).",
    )
    llm_model: str = Field("gpt-4o-mini", description="Chat model name sent to the endpoint.")
    llm_timeout: float = Field(
        15.0, gt=0, description="Longest silence on an LLM connection, in seconds: to connect, to send, and "
        "between two streamed chunks (httpx's connect/write/read timeouts). Before the first token each "
        "request gets at most what is left of llm_first_token_timeout.",
    )
    llm_first_token_timeout: float = Field(
        15.0, gt=0, description="Seconds from sending the question to the first streamed token, retries and "
        "their waits included; past it the extractive answer is shown, with a notice.",
    )
    llm_answer_timeout: float = Field(
        60.0, gt=0, description="Seconds for the whole streamed answer; a slower answer is cut off and the "
        "extractive answer is shown, with a notice.",
    )
    llm_max_retries: int = Field(
        2, ge=0, description="Retries on transient LLM failures (429, 5xx, connection), only before the first "
        "token and only while llm_first_token_timeout leaves time for them.",
    )

    # --- UI ----------------------------------------------------------------------------
    ui_host: str = Field("127.0.0.1", description="Interface the UI binds to.")
    ui_port: int = Field(7860, description="Port the UI listens on.")
    ui_auth: str = Field("", description="user:password to require basic auth in the UI.")
    ui_allow_remote: bool = Field(False, description="Allow binding beyond localhost without auth.")
    upload_max_mb: int = Field(50, description="Largest file the UI accepts for upload, in MB.")
    ui_concurrency: int = Field(
        8, ge=1, description="Questions the UI (chat and the `/ask` API) answers at once; more wait in "
        "Gradio's queue. Uploads and removals always run one at a time.",
    )

    # --- API (`briefing serve`: the OpenAI-compatible endpoint, rag/api.py) ---------------
    api_host: str = Field("127.0.0.1", description="Interface `briefing serve` binds to.")
    api_port: int = Field(8400, description="Port `briefing serve` listens on (not 8000: that is Chroma's default).")
    api_keys: str = Field(
        "", description="Comma-separated bearer tokens `briefing serve` accepts (Authorization: Bearer <key>). "
        "Without any, it answers everyone and so binds to loopback only."
    )

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def resolved_answer_mode(self) -> Literal["extractive", "llm"]:
        if self.answer_mode == "auto":
            return "llm" if self.llm_configured else "extractive"
        return self.answer_mode

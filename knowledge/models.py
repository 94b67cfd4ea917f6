"""Datasets (knowledge bases), their documents and the documents' chunks."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from pgvector.django import VectorField

from ragsite.ids import new_id


class Dataset(models.Model):
    """A knowledge base. Stored under ragsite's names, reported under RAGFlow's (see serializers)."""

    class Permission(models.TextChoices):
        ME = "me", _("Only me")
        TEAM = "team", _("My teams")

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    tenant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets"
    )
    name = models.CharField(_("name"), max_length=255)
    # RAGFlow reports an unset avatar/description as null, distinct from "".
    avatar = models.TextField(_("avatar"), null=True, blank=True)  # noqa: DJ001
    description = models.TextField(_("description"), null=True, blank=True)  # noqa: DJ001
    language = models.CharField(_("language"), max_length=32, default="English")
    embedding_model = models.CharField(_("embedding model"), max_length=255)
    permission = models.CharField(
        _("permission"), max_length=16, choices=Permission.choices, default=Permission.ME
    )
    chunk_method = models.CharField(_("chunk method"), max_length=32, default="naive")
    parser_config = models.JSONField(_("parser config"), default=dict, blank=True)
    pagerank = models.PositiveSmallIntegerField(_("page rank"), default=0)
    similarity_threshold = models.FloatField(default=0.2)
    vector_similarity_weight = models.FloatField(default=0.3)
    document_count = models.PositiveIntegerField(_("documents"), default=0)
    chunk_count = models.PositiveIntegerField(_("chunks"), default=0)
    token_count = models.PositiveBigIntegerField(_("tokens"), default=0)
    # RAGFlow v0.27: the metadata fields documents may carry (`{"metadata": [...],
    # "built_in_metadata": [...]}`) and data-source connectors, stored and echoed.
    metadata_config = models.JSONField(_("metadata fields"), default=dict, blank=True)
    connectors = models.JSONField(_("connectors"), default=list, blank=True)
    # The chat model LLM enrichment uses (auto keywords/questions, RAPTOR, knowledge graph),
    # `name@factory`; "" = the default (see knowledge.enrichment.chat_model).
    llm_id = models.CharField(_("chat model for enrichment"), max_length=255, blank=True)
    # RAGFlow's dataset-level job pointers: the latest RAPTOR and knowledge-graph jobs.
    raptor_task_id = models.CharField(max_length=32, blank=True, default="")
    raptor_task_finish_at = models.DateTimeField(null=True, blank=True)
    graphrag_task_id = models.CharField(max_length=32, blank=True, default="")
    graphrag_task_finish_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")
        constraints = [
            # RAGFlow compares dataset names case-insensitively within a tenant.
            models.UniqueConstraint(Lower("name"), "tenant", name="dataset_name_unique_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.name


class Document(models.Model):
    """An uploaded file in a dataset, its parse state and its counters (contract §3.1)."""

    class Run(models.TextChoices):
        UNSTART = "0", _("Not parsed")
        RUNNING = "1", _("Parsing")
        CANCEL = "2", _("Cancelled")
        DONE = "3", _("Done")
        FAIL = "4", _("Failed")

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="documents")
    tenant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents"
    )
    name = models.CharField(_("name"), max_length=255)
    location = models.CharField(_("storage key"), max_length=512, blank=True)
    type = models.CharField(_("type"), max_length=16)
    suffix = models.CharField(_("suffix"), max_length=16, blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    chunk_method = models.CharField(_("chunk method"), max_length=32, default="naive")
    parser_config = models.JSONField(_("parser config"), default=dict, blank=True)
    meta_fields = models.JSONField(_("metadata"), default=dict, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    run = models.CharField(_("state"), max_length=1, choices=Run.choices, default=Run.UNSTART)
    progress = models.FloatField(_("progress"), default=0.0)
    progress_msg = models.TextField(_("progress log"), blank=True, default="")
    process_begin_at = models.DateTimeField(null=True, blank=True)
    process_duration = models.FloatField(default=0.0)
    chunk_count = models.PositiveIntegerField(_("chunks"), default=0)
    token_count = models.PositiveBigIntegerField(_("tokens"), default=0)
    # parser_config.toc_extraction's table of contents: [{"level", "title", "ids"}], the ids
    # being the chunks of the section (knowledge.parsing.toc).
    toc = models.JSONField(_("table of contents"), default=list, blank=True)
    # Each parse start bumps the generation; a task that carries an older one is stale and quits.
    parse_generation = models.PositiveIntegerField(default=0)
    parse_attempts = models.PositiveSmallIntegerField(default=0)
    # Written by the worker while it parses; a RUNNING document whose heartbeat stops is recovered.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.UniqueConstraint("dataset", "name", name="document_name_unique_per_dataset"),
        ]
        indexes = [models.Index(fields=["run", "heartbeat_at"], name="document_run_heartbeat")]

    def __str__(self) -> str:
        return self.name


class Chunk(models.Model):
    """A passage of a document with its embedding and its full-text side.

    Embeddings of different models (and so dimensions) share one untyped `vector` column; each
    common dimension has its own partial HNSW index (see the migration), and queries cast to
    `vector(<dim>)` with `embedding_dim = <dim>` so the planner picks it.
    """

    id = models.CharField(primary_key=True, max_length=16, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="chunks")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    ordinal = models.PositiveIntegerField(default=0)
    content = models.TextField()
    # jieba-segmented content (RAGFlow's `content_ltks`), what keyword search matches against.
    content_ltks = models.TextField(blank=True, default="")
    # jieba-segmented important keywords and questions: they weigh more than body text.
    keywords_ltks = models.TextField(blank=True, default="")
    important_keywords = models.JSONField(default=list, blank=True)
    questions = models.JSONField(default=list, blank=True)
    # RAGFlow v0.27's tags (`tag_kwd`) and their weights (`tag_feas`), stored and echoed.
    tags = models.JSONField(default=list, blank=True)
    # 0 for a passage of the document; n >= 1 for a RAPTOR summary of layer n (RAGFlow's
    # `raptor_kwd`).
    raptor_level = models.PositiveSmallIntegerField(default=0)
    tag_weights = models.JSONField(default=dict, blank=True)
    # An image attached with `image_base64`: RAGFlow's `img_id`, `<dataset>-<chunk>`, and the
    # storage key of its bytes (under the dataset's folder, deleted with it).
    image_id = models.CharField(max_length=80, blank=True, default="")
    image_location = models.CharField(max_length=512, blank=True, default="")
    available = models.BooleanField(default=True)
    page_numbers = ArrayField(models.PositiveIntegerField(), default=list, blank=True)
    positions = models.JSONField(default=list, blank=True)
    token_count = models.PositiveIntegerField(default=0)
    embedding = VectorField(null=True, blank=True)
    embedding_dim = models.PositiveSmallIntegerField(default=0)
    # The search vector lives in the chunk's ChunkTerms row only (`chunk.terms.search_vector`).
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "ordinal"]
        verbose_name = _("chunk")
        verbose_name_plural = _("chunks")
        indexes = [
            models.Index(fields=["document", "ordinal"], name="chunk_document_ordinal"),
            models.Index(fields=["dataset", "available"], name="chunk_dataset_available"),
        ]

    def __str__(self) -> str:
        return self.content[:60]


class ChunkTerms(models.Model):
    """A chunk's search vector, in a narrow row of its own: what the keyword leg of retrieval
    reads for each of the thousands of chunks its GIN lookup finds, and what the chunk list's
    keyword filter searches.

    The chunk's own row is wide (content, segmented text, a 1.5 KB embedding), mostly
    compressed and TOASTed out of line: when the vector was kept there, the keyword leg paid a
    TOAST lookup and a decompression per matching chunk. Here the row holds only the vector and
    what the scope filters read, uncompressed for all but very long chunks. The chunk store
    computes it from the chunk's terms when it writes the chunk, in the same transaction
    (`chunk_store`); it is the only copy (migration 0012 dropped the chunk's).
    """

    chunk = models.OneToOneField(
        Chunk, primary_key=True, on_delete=models.CASCADE, related_name="terms"
    )
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+", db_index=False)
    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    available = models.BooleanField(default=True)
    search_vector = SearchVectorField()

    class Meta:
        indexes = [GinIndex(fields=["search_vector"], name="chunkterms_search_vector_gin")]

    def __str__(self) -> str:
        return str(self.chunk_id)


class ModelProvider(models.Model):
    """An OpenAI-compatible model service an administrator configured (Ollama, vLLM, TEI, OpenAI…).

    Its models are named `<model>@<factory>`, RAGFlow's way. The key is write-only: forms never
    show it back.
    """

    factory = models.CharField(
        _("factory"),
        max_length=64,
        unique=True,
        help_text=_("The part after @ in model names, e.g. Ollama for bge-m3@Ollama."),
    )
    base_url = models.URLField(
        _("base URL"), help_text=_("The OpenAI-compatible API root, e.g. http://localhost:11434/v1")
    )
    api_key = models.CharField(_("API key"), max_length=512, blank=True)
    embedding_models = models.TextField(
        _("embedding models"), blank=True, help_text=_("One model name per line.")
    )
    chat_models = models.TextField(
        _("chat models"), blank=True, help_text=_("One model name per line.")
    )
    rerank_models = models.TextField(
        _("rerank models"), blank=True, help_text=_("One model name per line.")
    )
    timeout_seconds = models.FloatField(_("timeout (seconds)"), default=60.0)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["factory"]
        verbose_name = _("model provider")
        verbose_name_plural = _("model providers")

    def __str__(self) -> str:
        return self.factory

    @staticmethod
    def _names(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]

    def embedding_model_names(self) -> list[str]:
        return self._names(self.embedding_models)

    def chat_model_names(self) -> list[str]:
        return self._names(self.chat_models)

    def rerank_model_names(self) -> list[str]:
        return self._names(self.rerank_models)


class TermStat(models.Model):
    """How many chunks of a dataset contain a search term: the document frequency BM25 needs.

    Kept exact by the chunk store on every insert, update and delete, so keyword scoring can
    read IDF for a query's few terms with one indexed lookup.
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="term_stats")
    term = models.CharField(max_length=64)
    df = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint("dataset", "term", name="termstat_unique_term_per_dataset"),
        ]

    def __str__(self) -> str:
        return f"{self.term}: {self.df}"


from knowledge.models_enrichment import EnrichmentJob, LLMAnswer  # noqa: E402
from knowledge.models_evaluation import EvaluationQuestion  # noqa: E402
from knowledge.models_files import File, FileLink  # noqa: E402
from knowledge.models_graph import GraphCommunity, GraphEntity, GraphRelation  # noqa: E402

__all__ = [
    "Chunk",
    "ChunkTerms",
    "Dataset",
    "Document",
    "EnrichmentJob",
    "EvaluationQuestion",
    "File",
    "FileLink",
    "GraphCommunity",
    "GraphEntity",
    "GraphRelation",
    "LLMAnswer",
    "ModelProvider",
    "TermStat",
]

"""Request models of the knowledge endpoints, one module per resource.

Each model holds the wire leniency of both RAGFlow generations (v0.22 and v0.27) and hands the
services typed values: keyword arguments or a `…Changes` dataclass, never a raw body.
"""

from knowledge.api.schemas.chunks import ChunkAddIn, ChunkAvailabilityIn, ChunkUpdateIn
from knowledge.api.schemas.datasets import (
    DatasetCreateIn,
    DatasetDeleteIn,
    DatasetDeleteIn27,
    DatasetListIn,
    DatasetListIn27,
    DatasetUpdateIn,
    MetadataConfig,
    uuid1_hex,
    uuid_hex,
)
from knowledge.api.schemas.documents import DocumentIdsIn, DocumentListIn, DocumentUpdateIn
from knowledge.api.schemas.retrieval import RetrievalIn

__all__ = [
    "ChunkAddIn",
    "ChunkAvailabilityIn",
    "ChunkUpdateIn",
    "DatasetCreateIn",
    "DatasetDeleteIn",
    "DatasetDeleteIn27",
    "DatasetListIn",
    "DatasetListIn27",
    "DatasetUpdateIn",
    "MetadataConfig",
    "DocumentIdsIn",
    "DocumentListIn",
    "DocumentUpdateIn",
    "RetrievalIn",
    "uuid1_hex",
    "uuid_hex",
]

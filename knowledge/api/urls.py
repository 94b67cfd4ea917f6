from django.urls import re_path

from knowledge.api import chunks, documents, views

# RAGFlow tolerates a trailing slash on every route (strict slashes off).
urlpatterns = [
    re_path(r"^datasets/?$", views.DatasetsApi.as_view()),
    re_path(r"^datasets/(?P<dataset_id>[^/]+)/?$", views.DatasetApi.as_view()),
    re_path(r"^datasets/(?P<dataset_id>[^/]+)/documents/?$", documents.DocumentsApi.as_view()),
    re_path(
        r"^datasets/(?P<dataset_id>[^/]+)/documents/(?P<document_id>[^/]+)/?$",
        documents.DocumentApi.as_view(),
    ),
    re_path(r"^datasets/(?P<dataset_id>[^/]+)/chunks/?$", documents.ParseApi.as_view()),
    re_path(
        r"^datasets/(?P<dataset_id>[^/]+)/documents/(?P<document_id>[^/]+)/chunks/?$",
        chunks.ChunksApi.as_view(),
    ),
    re_path(
        r"^datasets/(?P<dataset_id>[^/]+)/documents/(?P<document_id>[^/]+)/chunks/(?P<chunk_id>[^/]+)/?$",
        chunks.ChunkApi.as_view(),
    ),
    re_path(r"^retrieval/?$", chunks.RetrievalApi.as_view()),
]

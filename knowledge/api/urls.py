from django.urls import re_path

from knowledge.api import (
    chunks,
    documents,
    evaluation,
    files,
    graph,
    index,
    metadata,
    preview,
    views,
)

DS = r"^datasets/(?P<dataset_id>[^/]+)"
DOC = DS + r"/documents/(?P<document_id>[^/]+)"
FILE = r"^files/(?P<file_id>[^/]+)"

# RAGFlow tolerates a trailing slash on every route (strict slashes off). Django tries the
# patterns in order: static segments come before the parameterised ones they would match.
urlpatterns = [
    re_path(r"^datasets/?$", views.DatasetsApi.as_view()),
    re_path(DS + r"/?$", views.DatasetApi.as_view()),
    re_path(DS + r"/documents/?$", documents.DocumentsApi.as_view()),
    re_path(DS + r"/documents/parse/?$", documents.DocumentsParseApi.as_view()),
    re_path(DS + r"/documents/stop/?$", documents.DocumentsStopApi.as_view()),
    re_path(DS + r"/documents/metadatas/?$", metadata.DocumentsMetadatasApi.as_view()),
    re_path(DOC + r"/?$", documents.DocumentApi.as_view()),
    re_path(DS + r"/chunks/?$", documents.ParseApi.as_view()),
    re_path(DS + r"/metadata/config/?$", metadata.MetadataConfigApi.as_view()),
    re_path(DS + r"/metadata/summary/?$", metadata.MetadataSummaryApi.as_view()),
    re_path(DS + r"/metadata/update/?$", metadata.MetadataUpdateApi.as_view()),
    re_path(DS + r"/run_raptor/?$", index.RunRaptorApi.as_view()),
    re_path(DS + r"/trace_raptor/?$", index.TraceRaptorApi.as_view()),
    re_path(DS + r"/index/?$", index.IndexApi.as_view()),
    re_path(DS + r"/raptor/?$", index.IndexTypeApi.as_view(index_type="raptor")),
    re_path(DOC + r"/chunks/?$", chunks.ChunksApi.as_view()),
    re_path(DOC + r"/chunks/(?P<chunk_id>[^/]+)/?$", chunks.ChunkApi.as_view()),
    re_path(DS + r"/knowledge_graph/?$", graph.KnowledgeGraphApi.as_view()),
    re_path(DS + r"/graph/?$", graph.GraphApi.as_view()),
    re_path(DS + r"/run_graphrag/?$", graph.RunGraphragApi.as_view()),
    re_path(DS + r"/trace_graphrag/?$", graph.TraceGraphragApi.as_view()),
    re_path(r"^retrieval/?$", chunks.RetrievalApi.as_view()),
    # v0.27: a document's bytes inline, by id alone; /document/get/ is its deprecated name.
    re_path(r"^documents/ingest/?$", documents.DocumentsIngestApi.as_view()),
    re_path(r"^documents/upload/?$", files.DocumentsUploadApi.as_view()),
    re_path(r"^file/upload_info/?$", files.DocumentsUploadApi.as_view()),
    re_path(r"^documents/(?P<document_id>[^/]+)/preview/?$", preview.DocumentPreviewApi.as_view()),
    re_path(r"^document/get/(?P<document_id>[^/]+)/?$", preview.DocumentPreviewApi.as_view()),
    # The file manager (v0.27 §3.9); static segments before `files/<file_id>`.
    re_path(r"^files/?$", files.FilesApi.as_view()),
    re_path(r"^files/move/?$", files.FilesMoveApi.as_view()),
    re_path(r"^files/link-to-datasets/?$", files.FilesLinkApi.as_view()),
    re_path(FILE + r"/parent/?$", files.FileParentApi.as_view()),
    re_path(FILE + r"/ancestors/?$", files.FileAncestorsApi.as_view()),
    re_path(FILE + r"/?$", files.FileApi.as_view()),
    re_path(r"^file/upload/?$", files.OldFileUploadApi.as_view()),
    re_path(r"^file/create/?$", files.OldFileCreateApi.as_view()),
    re_path(r"^file/list/?$", files.OldFileListApi.as_view()),
    re_path(r"^file/root_folder/?$", files.OldRootFolderApi.as_view()),
    re_path(r"^file/parent_folder/?$", files.OldParentFolderApi.as_view()),
    re_path(r"^file/all_parent_folder/?$", files.OldAllParentFolderApi.as_view()),
    re_path(r"^file/rm/?$", files.OldFileRmApi.as_view()),
    re_path(r"^file/rename/?$", files.OldFileRenameApi.as_view()),
    re_path(r"^file/mv/?$", files.OldFileMvApi.as_view()),
    re_path(r"^file/convert/?$", files.OldFileConvertApi.as_view()),
    re_path(r"^file/get/(?P<file_id>[^/]+)/?$", files.OldFileGetApi.as_view()),
    # ragsite's own routes (not RAGFlow's) live under /api/v1/ragsite/.
    re_path(
        r"^ragsite/" + DS[1:] + r"/evaluation/questions/?$",
        evaluation.EvaluationQuestionsApi.as_view(),
    ),
    re_path(r"^ragsite/" + DS[1:] + r"/evaluation/?$", evaluation.EvaluationApi.as_view()),
]

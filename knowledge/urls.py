from django.urls import URLPattern, URLResolver, include, path

from knowledge import views
from knowledge.views import enrichment, evaluation, files, graph, preview

app_name = "knowledge"

# Under /datasets/<id>/documents/<doc>/chunks/: `<chunk>/…` acts on one chunk, the rest on the
# document's chunks.
chunk_urls: list[URLPattern] = [
    path("", views.document_chunks, name="document_chunks"),
    path("add/", views.add_chunk, name="add_chunk"),
    path("delete/", views.delete_selected_chunks, name="delete_selected_chunks"),
    path("<str:chunk_id>/", views.chunk_detail, name="chunk_detail"),
    path("<str:chunk_id>/edit/", views.edit_chunk, name="edit_chunk"),
    path("<str:chunk_id>/available/", views.toggle_chunk, name="toggle_chunk"),
    path("<str:chunk_id>/delete/", views.delete_chunk, name="delete_chunk"),
]

# Under /datasets/<id>/documents/: `<doc>/…` acts on one document, the rest on the checked ones.
document_urls: list[URLPattern | URLResolver] = [
    path("upload/", views.upload_documents, name="upload_documents"),
    path("updates/", views.document_updates, name="document_updates"),
    path("parse/", views.parse_selected, name="parse_selected"),
    path("delete/", views.delete_selected, name="delete_selected"),
    path("<str:document_id>/download/", views.download_document, name="download_document"),
    path("<str:document_id>/settings/", views.document_settings, name="document_settings"),
    path("<str:document_id>/parse/", views.parse_document, name="parse_document"),
    path("<str:document_id>/stop/", views.stop_parsing, name="stop_parsing"),
    path("<str:document_id>/enabled/", views.toggle_document, name="toggle_document"),
    path("<str:document_id>/delete/", views.delete_document, name="delete_document"),
    path("<str:document_id>/chunks/", include(chunk_urls)),
    path("<str:document_id>/preview/", preview.document_preview, name="document_preview"),
    path(
        "<str:document_id>/preview/pages/<int:number>.png",
        preview.document_preview_page,
        name="document_preview_page",
    ),
]

urlpatterns = [
    path("", views.dataset_list, name="dataset_list"),
    path("datasets/create/", views.create_dataset, name="create_dataset"),
    path("datasets/<str:dataset_id>/", views.dataset_detail, name="dataset_detail"),
    path("datasets/<str:dataset_id>/card/", views.dataset_row, name="dataset_row"),
    path("datasets/<str:dataset_id>/edit/", views.edit_dataset, name="edit_dataset"),
    path(
        "datasets/<str:dataset_id>/enrichment/",
        enrichment.enrichment_panel,
        name="enrichment_panel",
    ),
    path(
        "datasets/<str:dataset_id>/enrichment/settings/",
        enrichment.enrichment_settings,
        name="enrichment_settings",
    ),
    path("datasets/<str:dataset_id>/raptor/start/", enrichment.raptor_start, name="raptor_start"),
    path("datasets/<str:dataset_id>/raptor/stop/", enrichment.raptor_stop, name="raptor_stop"),
    path("datasets/<str:dataset_id>/delete/", views.delete_dataset, name="delete_dataset"),
    path("datasets/<str:dataset_id>/retrieval/", views.retrieval_test, name="retrieval_test"),
    path("datasets/<str:dataset_id>/evaluation/", evaluation.evaluation, name="evaluation"),
    path("datasets/<str:dataset_id>/graph/", graph.graph_page, name="graph"),
    path("datasets/<str:dataset_id>/graph/status/", graph.graph_status, name="graph_status"),
    path("datasets/<str:dataset_id>/graph/build/", graph.build_graph, name="build_graph"),
    path(
        "datasets/<str:dataset_id>/evaluation/questions/",
        evaluation.add_evaluation_question,
        name="add_evaluation_question",
    ),
    path(
        "datasets/<str:dataset_id>/evaluation/questions/<str:question_id>/delete/",
        evaluation.delete_evaluation_question,
        name="delete_evaluation_question",
    ),
    path(
        "datasets/<str:dataset_id>/evaluation/run/",
        evaluation.run_evaluation,
        name="run_evaluation",
    ),
    path("datasets/<str:dataset_id>/documents/", include(document_urls)),
    # The Files page (the file manager).
    path("files/", files.files, name="files"),
    path("files/folders/<str:folder_id>/", files.files, name="file_folder"),
    path("files/folders/<str:folder_id>/upload/", files.upload_files, name="upload_files"),
    path("files/folders/<str:folder_id>/new/", files.create_folder, name="create_folder"),
    path("files/<str:file_id>/rename/", files.rename_file, name="rename_file"),
    path("files/<str:file_id>/move/", files.move_file, name="move_file"),
    path("files/<str:file_id>/delete/", files.delete_file, name="delete_file"),
    path("files/<str:file_id>/link/", files.link_file, name="link_file"),
    path("files/<str:file_id>/download/", files.download_file, name="download_file"),
]

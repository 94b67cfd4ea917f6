from django.urls import include, path

from knowledge import views

app_name = "knowledge"

# Under /datasets/<id>/documents/: `<doc>/…` acts on one document, the rest on the checked ones.
document_urls = [
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
]

urlpatterns = [
    path("", views.dataset_list, name="dataset_list"),
    path("datasets/create/", views.create_dataset, name="create_dataset"),
    path("datasets/<str:dataset_id>/", views.dataset_detail, name="dataset_detail"),
    path("datasets/<str:dataset_id>/card/", views.dataset_row, name="dataset_row"),
    path("datasets/<str:dataset_id>/edit/", views.edit_dataset, name="edit_dataset"),
    path("datasets/<str:dataset_id>/delete/", views.delete_dataset, name="delete_dataset"),
    path("datasets/<str:dataset_id>/documents/", include(document_urls)),
]

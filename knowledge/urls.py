from django.urls import path

from knowledge import views

app_name = "knowledge"
urlpatterns = [
    path("", views.dataset_list, name="dataset_list"),
    path("datasets/create/", views.create_dataset, name="create_dataset"),
    path("datasets/<str:dataset_id>/", views.dataset_row, name="dataset_row"),
    path("datasets/<str:dataset_id>/edit/", views.edit_dataset, name="edit_dataset"),
    path("datasets/<str:dataset_id>/delete/", views.delete_dataset, name="delete_dataset"),
]

from django.urls import URLPattern, path

from agents import memory_views as views

app_name = "memory"

urlpatterns: list[URLPattern] = [
    path("", views.memory_list_page, name="memory_list"),
    path("<str:memory_id>/", views.memory_page, name="memory_page"),
    path("<str:memory_id>/search/", views.memory_search_results, name="memory_search"),
    path("<str:memory_id>/settings/", views.memory_settings, name="memory_settings"),
    path("<str:memory_id>/delete/", views.memory_delete, name="memory_delete"),
    path(
        "<str:memory_id>/messages/<int:message_id>/status/",
        views.message_status,
        name="message_status",
    ),
    path(
        "<str:memory_id>/messages/<int:message_id>/forget/",
        views.message_forget,
        name="message_forget",
    ),
]

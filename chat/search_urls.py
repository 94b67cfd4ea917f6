from django.urls import URLPattern, path

from chat import search_views as views

app_name = "search"

urlpatterns: list[URLPattern] = [
    path("", views.search_list_page, name="search_list"),
    path("<str:search_id>/", views.search_page, name="search_page"),
    path("<str:search_id>/results/", views.search_results, name="search_results"),
    path("<str:search_id>/summary/", views.search_summary, name="search_summary"),
    path("<str:search_id>/related/", views.search_related, name="search_related"),
    path("<str:search_id>/mindmap/", views.search_mindmap, name="search_mindmap"),
    path("<str:search_id>/settings/", views.search_settings, name="search_settings"),
    path("<str:search_id>/delete/", views.delete_search, name="delete_search"),
]

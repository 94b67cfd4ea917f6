"""Account pages at the site root (/keys/, /settings/); sign-in routes stay in urls.py."""

from django.urls import path

from ragsite.accounts import views

app_name = "accounts"
urlpatterns = [
    path("keys/", views.api_key_list, name="api_keys"),
    path("keys/create/", views.create_api_key, name="create_api_key"),
    path("keys/<int:key_id>/revoke/", views.revoke_api_key, name="revoke_api_key"),
    path("settings/", views.account_settings, name="settings"),
]

from django.urls import include, path

from agents import views

app_name = "agents"

# Under /agents/<id>/sessions/: `<session>/…` acts on one session.
session_urls = [
    path("create/", views.create_session, name="create_session"),
    path("<str:session_id>/", views.session_detail, name="session_detail"),
    path("<str:session_id>/delete/", views.delete_session, name="delete_session"),
]

urlpatterns = [
    path("", views.agent_list, name="agent_list"),
    path("new/", views.create_agent, name="create_agent"),
    path("new/dsl/", views.import_agent, name="import_agent"),
    path("new/check/", views.check_dsl, name="check_dsl"),
    path("new/<slug:template>/", views.create_from_template, name="create_from_template"),
    path("<str:agent_id>/", views.agent_detail, name="agent_detail"),
    path("<str:agent_id>/edit/", views.edit_agent, name="edit_agent"),
    path("<str:agent_id>/delete/", views.delete_agent, name="delete_agent"),
    path("<str:agent_id>/sessions/", include(session_urls)),
]

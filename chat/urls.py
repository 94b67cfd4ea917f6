from django.urls import include, path

from chat import message_views, views

app_name = "chat"

# Under /chats/<id>/sessions/: `<session>/…` acts on one session.
session_urls = [
    path("create/", views.create_session, name="create_session"),
    path("<str:session_id>/", views.session_detail, name="session_detail"),
    path("<str:session_id>/item/", views.session_item, name="session_item"),
    path("<str:session_id>/rename/", views.rename_session, name="rename_session"),
    path("<str:session_id>/delete/", views.delete_session, name="delete_session"),
    path(
        "<str:session_id>/messages/<str:message_id>/feedback/",
        message_views.message_feedback,
        name="message_feedback",
    ),
    path(
        "<str:session_id>/messages/<str:message_id>/delete/",
        message_views.delete_message,
        name="delete_message",
    ),
    path("<str:session_id>/related/", message_views.related_questions, name="related_questions"),
    path("<str:session_id>/mindmap/", message_views.mind_map, name="mind_map"),
]

urlpatterns = [
    path("", views.chat_list, name="chat_list"),
    path("new/", views.create_chat, name="create_chat"),
    path("<str:chat_id>/", views.chat_detail, name="chat_detail"),
    path("<str:chat_id>/settings/", views.chat_settings, name="chat_settings"),
    path("<str:chat_id>/delete/", views.delete_chat, name="delete_chat"),
    path("<str:chat_id>/sessions/", include(session_urls)),
]

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from ragsite.accounts.forms import LoginForm, PasswordChangeForm

# Mounted under accounts/ without a namespace: LOGIN_URL and Django's auth views expect the
# bare names. The API-key and settings pages live at the site root, see page_urls.py.
urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            form_class=PasswordChangeForm, success_url=reverse_lazy("password_change_done")
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

"""What `manage.py bootstrap_admin` prints, importable without Django (ragsite.launcher and
ragsite.cluster read these prefixes to word their banners and stay light processes)."""

USERNAME = "admin"
PASSWORD_ENV = "RAGSITE_ADMIN_PASSWORD"
PASSWORD_LABEL = f"Password for {USERNAME} (shown only this once): "
EXISTS_MESSAGE = f'User "{USERNAME}" already exists; left unchanged.'

"""The window: PySide6 widgets over the Qt-free engine."""

APP_NAME = "Music Explorer"

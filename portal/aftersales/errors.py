"""The after-sale actions' one error (its own module so that selectors and actions both raise it)."""


class ActionError(Exception):
    """An operator's input that cannot be applied: shown next to the field, nothing changed."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field

"""The one error type the UI shows as is."""


class DataError(ValueError):
    """A problem with the user's input or data; the message is written for the user."""

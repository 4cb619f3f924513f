"""The one error type the UI and the CLI show as is."""


class UserError(ValueError):
    """A problem the user can act on (input, data, settings, a failed run); the message is
    written for the user, with a hint where there is one."""

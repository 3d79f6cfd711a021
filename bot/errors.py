"""The one exception a user mistake raises."""


class BotError(Exception):
    """A problem the user can fix; the message is one actionable sentence."""

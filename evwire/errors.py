"""Error types. Messages say what the operator can do about it."""


class EvwireError(Exception):
    """Base of every error evwire reports to a user instead of a traceback."""


class CatalogError(EvwireError):
    """The entity catalog file is invalid."""


class IngestError(EvwireError):
    """An article or feed could not be read."""


class NotFoundError(EvwireError):
    """A referenced row does not exist."""


class DeliveryError(EvwireError):
    """An alert could not be delivered."""

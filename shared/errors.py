"""Domain errors: what ``service.py`` raises, what clients see as ``extensions.code``.

Services raise :class:`DomainError` (no GraphQL import needed); the GraphQL layer
turns it into an error with ``extensions.code`` and, when one input field is at
fault, ``extensions.field``. Anything else is masked as INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule was broken; ``code`` is upper snake case, ``message`` is for humans."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field

    @property
    def extensions(self) -> dict[str, str]:
        """The ``extensions`` object of the GraphQL error."""
        ext = {"code": self.code}
        if self.field:
            ext["field"] = self.field
        return ext


class NotFound(DomainError):
    """The id names nothing the caller may see."""

    code = "NOT_FOUND"


class Unauthenticated(DomainError):
    """No valid access token was sent."""

    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "Sign in first: a valid access token is required."):
        super().__init__(message)


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    code = "FORBIDDEN"

    def __init__(self, message: str = "You are not allowed to do this."):
        super().__init__(message)


class Conflict(DomainError):
    """The request conflicts with the current state (duplicate, wrong stage...)."""

    code = "CONFLICT"

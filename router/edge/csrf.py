"""CSRF prevention as Apollo Router does it (``csrf: {unsafe_disabled, required_headers}``).

In: the request's headers. Out: nothing, or ``CSRF_ERROR`` (400) for a request a browser
would send without a CORS preflight: no ``content-type``, or one of
``application/x-www-form-urlencoded``, ``multipart/form-data``, ``text/plain`` (so every GET
from a plain link or form), unless it carries one of the required headers
(``x-apollo-operation-name``, ``apollo-require-preflight`` by default), which only scripts can
add and which therefore forces a preflight that our CORS policy then decides.
"""

from __future__ import annotations

from collections.abc import Mapping

from router.edge import errors as codes
from router.edge.config import CsrfConfig
from router.errors import RequestError

NON_PREFLIGHTED_CONTENT_TYPES = (
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
)


def is_preflighted(headers: Mapping[str, str], required_headers: tuple[str, ...]) -> bool:
    """True when a browser would have preflighted this request."""
    if any(headers.get(name) for name in required_headers):
        return True
    content_type = headers.get("content-type")
    if not content_type:
        return False
    essence = content_type.split(";", 1)[0].strip().lower()
    if not essence or "/" not in essence:
        return False  # unparsable: do not assume a preflight (Apollo Router errs the same way)
    return essence not in NON_PREFLIGHTED_CONTENT_TYPES


class CsrfPrevention:
    """Rejects requests that could come from a cross-site form or link."""

    def __init__(self, config: CsrfConfig) -> None:
        self.config = config
        self.message = (
            "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). "
            "Please either specify a 'content-type' header (with a mime-type that is not one "
            f"of {', '.join(NON_PREFLIGHTED_CONTENT_TYPES)}) or provide one of the following "
            f"headers: {', '.join(config.required_headers)}"
        )

    def check(self, headers: Mapping[str, str]) -> None:
        """Raise ``CSRF_ERROR`` for a non-preflighted request."""
        if self.config.unsafe_disabled:
            return
        if not is_preflighted(headers, self.config.required_headers):
            raise RequestError(self.message, code=codes.CSRF_ERROR, status=400)

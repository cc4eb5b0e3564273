"""Persisted query list (PQL) and safelisting from an Apollo persisted-query manifest.

In: manifests in Apollo's format (``{"format": "apollo-persisted-query-manifest", "version":
1, "operations": [{"id", "name", "type", "body", "clientName"?}]}``) and each request's
``query`` / ``extensions.persistedQuery.sha256Hash``. Out: the operation body for an id, and
whether a freeform body is on the list. Freeform bodies match after Apollo Router's
normalization: top-level definitions sorted (operations, then fragments, by name) and printed
canonically, so whitespace, commas and comments do not matter but field order does.

Partners: ``PartnerPolicy.is_partner(request)`` decides which requests are restricted to the
list. The default (``ClaimsPartnerPolicy``) reads the verified claims the authentication
layer leaves on ``request.state.claims`` (role ``PARTNER`` in ``roles`` or ``role``) and the
``apollographql-client-name`` header against ``persisted_queries.partners.client_names``;
pass another policy to ``create_app(partner_policy=...)`` to decide differently.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    parse,
    print_ast,
)

from router.edge.config import DEFAULT_PARSER_MAX_TOKENS, PartnersConfig
from router.operation import INTROSPECTION_FIELDS, LRUCache

logger = logging.getLogger("router.edge")

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
CLIENT_NAME_HEADER = "apollographql-client-name"


@dataclass(frozen=True, slots=True)
class ManifestOperation:
    """One entry of a persisted query manifest."""

    id: str
    body: str
    name: str | None = None
    type: str | None = None
    client_name: str | None = None


def load_manifest(path: str | Path) -> list[ManifestOperation]:
    """The operations of a manifest file; ``ValueError`` when it is not Apollo's format."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{path}: not an {MANIFEST_FORMAT}")
    if data.get("version") != 1:
        raise ValueError(f"{path}: unsupported manifest version {data.get('version')!r}")
    return [
        ManifestOperation(
            id=str(op["id"]),
            body=str(op["body"]),
            name=op.get("name"),
            type=op.get("type"),
            client_name=op.get("clientName"),
        )
        for op in data.get("operations") or ()
    ]


def sorted_document(document: DocumentNode) -> DocumentNode:
    """The document with operations first, then fragments, each sorted by name."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    operations.sort(key=lambda op: op.name.value if op.name else "")
    fragments.sort(key=lambda fragment: fragment.name.value)
    return DocumentNode(definitions=(*operations, *fragments))


def normalize_body(body: str) -> str:
    """The body as the safelist compares it (unparsable bodies compare byte for byte)."""
    try:
        document = parse(body, no_location=True, max_tokens=DEFAULT_PARSER_MAX_TOKENS)
    except GraphQLError:
        return body
    return print_ast(sorted_document(document))


def is_introspection_only(body: str) -> bool:
    """True when every root field of every operation is ``__schema``/``__type``/``__typename``."""
    try:
        document = parse(body, no_location=True, max_tokens=DEFAULT_PARSER_MAX_TOKENS)
    except GraphQLError:
        return False
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if not isinstance(selection, FieldNode) or (
                    selection.name.value not in INTROSPECTION_FIELDS
                    and selection.name.value != "__typename"
                ):
                    return False
    return True


class PersistedQueryList:
    """Operations by id (optionally per client name) and the normalized safelist."""

    def __init__(self, operations: Iterable[ManifestOperation]) -> None:
        self.by_id: dict[tuple[str | None, str], str] = {}
        self.bodies: set[str] = set()
        self.normalized: set[str] = set()
        for op in operations:
            self.by_id[(op.client_name, op.id)] = op.body
            self.bodies.add(op.body)
            self.normalized.add(normalize_body(op.body))
        self._checked: LRUCache[str, bool] = LRUCache(1024)

    @classmethod
    def from_files(cls, paths: Iterable[str | Path]) -> PersistedQueryList:
        """Load and merge manifests."""
        operations: list[ManifestOperation] = []
        for path in paths:
            operations.extend(load_manifest(path))
        return cls(operations)

    def __len__(self) -> int:
        return len(self.by_id)

    def body_for(self, operation_id: str, client_name: str | None = None) -> str | None:
        """The body persisted under ``operation_id`` (a client's own entry first)."""
        if client_name is not None:
            body = self.by_id.get((client_name, operation_id))
            if body is not None:
                return body
        return self.by_id.get((None, operation_id))

    def allows(self, body: str) -> bool:
        """True when ``body`` is on the list (exact text, else normalized; cached per text)."""
        if body in self.bodies:
            return True
        known = self._checked.get(body)
        if known is None:
            known = normalize_body(body) in self.normalized
            self._checked.put(body, known)
        return known


class PartnerPolicy(Protocol):
    """Decides whether a request comes from a partner (restricted to the safelist)."""

    def is_partner(self, request: Any) -> bool: ...


def request_claims(request: Any) -> Mapping[str, Any] | None:
    """Verified claims the authentication layer left on the request, if any."""
    state = getattr(request, "state", None)
    for name in ("claims", "jwt_claims"):
        claims = getattr(state, name, None)
        if isinstance(claims, Mapping):
            return claims
    return None


def client_name(request: Any) -> str | None:
    """The ``apollographql-client-name`` header."""
    return request.headers.get(CLIENT_NAME_HEADER) or None


class ClaimsPartnerPolicy:
    """Partners by verified role or by configured client name."""

    def __init__(self, config: PartnersConfig) -> None:
        self.roles = frozenset(r.upper() for r in config.roles)
        self.client_names = frozenset(config.client_names)

    def is_partner(self, request: Any) -> bool:
        """True for a partner's request."""
        if self.client_names and client_name(request) in self.client_names:
            return True
        claims = request_claims(request)
        if claims is None or not self.roles:
            return False
        roles = claims.get("roles") or ()
        if isinstance(roles, str):
            roles = roles.split()
        role = claims.get("role")
        held = {str(r).upper() for r in roles} | ({str(role).upper()} if role else set())
        return bool(held & self.roles)

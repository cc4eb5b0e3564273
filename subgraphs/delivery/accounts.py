"""What delivery asks users about an account: the store and first name of a new driver.

``UserRegistered`` carries the account's ``storeId`` since users added it; for a new
DRIVER announced by an older event without it, delivery asks users (``_entities`` on
``User``, public fields only, no caller). Behind :class:`AccountDirectory` so tests can give a fake
(``runtime.extras["delivery_accounts"]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx

from shared.settings import Settings
from shared.subgraph import SubgraphRuntime
from shared.subgraph_client import call_subgraph

EXTRAS_KEY = "delivery_accounts"

USER_ACCOUNT = """
query DriverAccount($r: [_Any!]!) {
  _entities(representations: $r) { ... on User { id firstName storeId roles active } }
}"""


@dataclass(frozen=True, slots=True)
class Account:
    """An account as users knows it now."""

    user_id: str
    first_name: str
    store_id: str | None
    roles: frozenset[str]
    active: bool


class AccountDirectory(Protocol):
    """Where delivery looks accounts up."""

    async def get(self, user_id: str) -> Account | None:
        """The account, or None when users does not know it."""


@dataclass
class SubgraphAccounts:
    """The :class:`AccountDirectory` that asks the users subgraph over GraphQL."""

    settings: Settings
    peers: Mapping[str, httpx.AsyncClient] | None = None

    async def get(self, user_id: str) -> Account | None:
        """Raises ``SubgraphUnavailable`` when users cannot answer (the event is retried)."""
        data = await call_subgraph(
            settings=self.settings,
            peers=self.peers,
            name="users",
            query=USER_ACCOUNT,
            variables={"r": [{"__typename": "User", "id": user_id}]},
        )
        found = (data.get("_entities") or [None])[0]
        if not found:
            return None
        return Account(
            user_id=str(found["id"]),
            first_name=str(found["firstName"]),
            store_id=found.get("storeId"),
            roles=frozenset(found.get("roles") or ()),
            active=bool(found.get("active", True)),
        )


def account_directory(runtime: SubgraphRuntime) -> AccountDirectory:
    """The runtime's directory: a fake from ``extras`` (tests), else the users subgraph."""
    directory = runtime.extras.get(EXTRAS_KEY)
    if directory is not None:
        return directory
    return SubgraphAccounts(settings=runtime.settings, peers=runtime.extras.get("peers"))

"""Accounts subgraph: users, ``me``, a rename mutation and a slow root field."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from strawberry.federation import Schema

USERS: dict[str, dict[str, str]] = {
    "1": {"name": "Ada Lovelace", "username": "ada"},
    "2": {"name": "Alan Turing", "username": "alan"},
}


@strawberry.federation.type(keys=["id"], description="A customer account.")
class User:
    id: strawberry.ID
    name: str = strawberry.federation.field(shareable=True)
    username: str = strawberry.federation.field(shareable=True)

    @strawberry.field(description="Nickname; fails (non-null) for user 2.")
    def strict_nickname(self) -> str:
        if self.id == "2":
            raise ValueError("nickname unavailable")
        return f"nick-{self.username}"

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> User | None:
        return make_user(id)


def make_user(user_id: str) -> User | None:
    row = USERS.get(str(user_id))
    if row is None:
        return None
    return User(id=strawberry.ID(str(user_id)), name=row["name"], username=row["username"])


@strawberry.type
class Query:
    @strawberry.field
    def me(self) -> User | None:
        return make_user("1")

    @strawberry.field
    def users(self) -> list[User]:
        return [u for u in (make_user(i) for i in USERS) if u is not None]

    @strawberry.field
    async def slow_accounts(self) -> str:
        await asyncio.sleep(0.3)
        return "accounts"


@strawberry.type
class Mutation:
    @strawberry.mutation
    def rename_user(self, id: strawberry.ID, name: str) -> User | None:
        if str(id) not in USERS:
            return None
        USERS[str(id)]["name"] = name
        return make_user(id)


schema = Schema(query=Query, mutation=Mutation, federation_version="2.11")

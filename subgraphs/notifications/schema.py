"""GraphQL schema of the notifications subgraph: in-app notifications and preferences.

Thin: resolvers check the caller, call ``service`` and map rows to types. Extends
``User`` (``notifications``, ``notificationPreferences``) as an id-only stub.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from shared import live
from shared.auth import require_principal
from shared.errors import DomainError, Forbidden
from shared.gql_types import PageInfo, decode_cursor, encode_cursor, page_info
from shared.subgraph import SubgraphContext, create_schema
from subgraphs.notifications import models, service

Ctx = Info[SubgraphContext, None]
MAX_PAGE = 100


@strawberry.enum(description="Where a notification is delivered.")
class NotificationChannel(Enum):
    IN_APP = strawberry.enum_value("IN_APP", description="Stored and listed in the apps.")
    EMAIL = strawberry.enum_value("EMAIL", description="Email to the account's address.")
    SMS = strawberry.enum_value("SMS", description="Text message (opt-in).")
    PUSH = strawberry.enum_value("PUSH", description="Push notification on the phone.")


@strawberry.type(description="An in-app notification.")
class Notification:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    kind: str = strawberry.field(description="The event behind it, e.g. OrderStatusChanged.")
    title: str = strawberry.field(description="One-line summary.")
    body: str = strawberry.field(description="The message.")
    order_id: strawberry.ID | None = strawberry.field(description="The order it is about, if any.")
    created_at: datetime = strawberry.field(description="When it was created.")
    read_at: datetime | None = strawberry.field(description="When the user read it.")

    @strawberry.field(description="Whether the user has read it.")
    def read(self) -> bool:
        return self.read_at is not None

    @classmethod
    def from_row(cls, row: models.Notification) -> Notification:
        return cls(
            id=strawberry.ID(row.id),
            kind=row.event_type,
            title=row.title,
            body=row.body,
            order_id=strawberry.ID(row.order_id) if row.order_id else None,
            created_at=row.created_at,
            read_at=row.read_at,
        )


@strawberry.type(description="One notification in a list.")
class NotificationEdge:
    cursor: str = strawberry.field(description="Position of this edge.")
    node: Notification = strawberry.field(description="The notification.")


@strawberry.type(description="A page of notifications, newest first.")
class NotificationConnection:
    edges: list[NotificationEdge] = strawberry.field(description="The notifications of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")
    total_count: int = strawberry.field(description="How many match in all.")
    unread_count: int = strawberry.field(description="How many are unread in all.")


@strawberry.type(description="Whether the user wants notifications on one channel.")
class NotificationPreference:
    channel: NotificationChannel = strawberry.field(description="The channel.")
    enabled: bool = strawberry.field(description="True when notifications go there.")


def _preference_list(chosen: dict[str, bool]) -> list[NotificationPreference]:
    return [
        NotificationPreference(channel=NotificationChannel(c), enabled=chosen[c])
        for c in service.CHANNELS
    ]


def _ensure_self(info: Ctx, user_id: str) -> str:
    principal = require_principal(info.context.principal)
    if principal.user_id != user_id:
        raise Forbidden("Only the user themselves can read their notifications.")
    return principal.user_id


@strawberry.federation.type(keys=["id"], description="A person with an account (owned by users).")
class User:
    id: strawberry.ID = strawberry.field(description="Opaque id of the user.")

    @strawberry.field(description="The user's in-app notifications, newest first (the user only).")
    async def notifications(
        self,
        info: Ctx,
        first: Annotated[int, strawberry.argument(description="Page size, at most 100.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor to start after.")
        ] = None,
        unread_only: Annotated[
            bool, strawberry.argument(description="Only notifications not read yet.")
        ] = False,
    ) -> NotificationConnection:
        user_id = _ensure_self(info, str(self.id))
        if not 0 < first <= MAX_PAGE:
            raise DomainError(f"first must be between 1 and {MAX_PAGE}.", field="first")
        try:
            offset = decode_cursor(after) + 1
        except ValueError as exc:
            raise DomainError("The cursor is not valid.", field="after") from exc
        async with info.context.db.session() as session:
            rows, total, unread = await service.list_in_app(
                session=session,
                user_id=user_id,
                offset=offset,
                limit=first,
                unread_only=unread_only,
            )
        edges = [
            NotificationEdge(cursor=encode_cursor(offset + i), node=Notification.from_row(r))
            for i, r in enumerate(rows)
        ]
        return NotificationConnection(
            edges=edges,
            total_count=total,
            unread_count=unread,
            page_info=page_info(
                offset=offset, count=len(rows), total=total, cursors=[e.cursor for e in edges]
            ),
        )

    @strawberry.field(description="Channel preferences of the user (the user only).")
    async def notification_preferences(self, info: Ctx) -> list[NotificationPreference]:
        user_id = _ensure_self(info, str(self.id))
        return _preference_list(await info.context.loaders.preferences.load(user_id))

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)


@strawberry.type(description="Notifications queries.")
class Query:
    @strawberry.field(description="The caller's channel preferences.")
    async def notification_preferences(self, info: Ctx) -> list[NotificationPreference]:
        principal = require_principal(info.context.principal)
        return _preference_list(await info.context.loaders.preferences.load(principal.user_id))


@strawberry.input(description="Which notification was read.")
class MarkNotificationReadInput:
    notification_id: strawberry.ID = strawberry.field(description="One of the caller's.")


@strawberry.input(description="Turn one channel on or off.")
class NotificationPreferenceInput:
    channel: NotificationChannel = strawberry.field(description="The channel.")
    enabled: bool = strawberry.field(description="True to receive notifications there.")


@strawberry.input(description="Channel preferences to change; channels not named stay as they are.")
class SetNotificationPreferencesInput:
    preferences: list[NotificationPreferenceInput] = strawberry.field(
        description="The channels to change."
    )


@strawberry.type(description="Result of markNotificationRead.")
class MarkNotificationReadPayload:
    notification: Notification = strawberry.field(description="The notification, now read.")


@strawberry.type(description="Result of setNotificationPreferences.")
class SetNotificationPreferencesPayload:
    preferences: list[NotificationPreference] = strawberry.field(
        description="Every channel with its setting."
    )


@strawberry.type(description="Notifications mutations.")
class Mutation:
    @strawberry.mutation(description="Mark one of the caller's notifications as read.")
    async def mark_notification_read(
        self,
        info: Ctx,
        input: Annotated[
            MarkNotificationReadInput, strawberry.argument(description="The notification.")
        ],
    ) -> MarkNotificationReadPayload:
        principal = require_principal(info.context.principal)
        async with info.context.db.session() as session:
            row = await service.mark_read(
                session=session, principal=principal, notification_id=str(input.notification_id)
            )
            await session.commit()
        return MarkNotificationReadPayload(notification=Notification.from_row(row))

    @strawberry.mutation(description="Choose the channels the caller is notified on.")
    async def set_notification_preferences(
        self,
        info: Ctx,
        input: Annotated[
            SetNotificationPreferencesInput,
            strawberry.argument(description="The channels to change."),
        ],
    ) -> SetNotificationPreferencesPayload:
        principal = require_principal(info.context.principal)
        if len(input.preferences) > len(service.CHANNELS):
            raise DomainError("Name each channel at most once.", field="preferences")
        async with info.context.db.session() as session:
            chosen = await service.set_preferences(
                session=session,
                principal=principal,
                changes=[(p.channel.value, p.enabled) for p in input.preferences],
            )
            await session.commit()
        return SetNotificationPreferencesPayload(preferences=_preference_list(chosen))


@strawberry.type(description="Live notifications.")
class Subscription:
    @strawberry.subscription(description="The caller's new in-app notifications as they arrive.")
    async def my_notifications(self, info: Ctx) -> AsyncGenerator[Notification, None]:
        principal = require_principal(info.context.principal)
        hub = live.live_hub(info.context.runtime.settings)
        async with hub.subscribe(live.notifications_channel(principal.user_id)) as updates:
            async for update in updates:
                async with info.context.db.session() as session:
                    row = await session.get(models.Notification, update["notificationId"])
                if row is not None and row.user_id == principal.user_id:
                    yield Notification.from_row(row)


schema = create_schema(query=Query, mutation=Mutation, subscription=Subscription, types=(User,))

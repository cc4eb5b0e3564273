"""GraphQL schema of the users subgraph: ``User`` (entity owner), ``Address``, sign-in.

Thin: resolvers check input shape, call ``service`` and map rows to types.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Authenticated, RequiresScopes
from strawberry.types import Info

from shared import outbox
from shared.auth import require_principal, require_role
from shared.errors import DomainError
from shared.gql_types import (
    GeoPoint,
    GeoPointInput,
    PageInfo,
    decode_cursor,
    encode_cursor,
    page_info,
)
from shared.subgraph import SubgraphContext, create_schema
from subgraphs.users import events, management, models, service

MAX_PAGE = 100


@strawberry.enum(description="What a user may do.")
class Role(Enum):
    CUSTOMER = strawberry.enum_value("CUSTOMER", description="Orders pizza.")
    DRIVER = strawberry.enum_value("DRIVER", description="Delivers orders for a store.")
    STAFF = strawberry.enum_value("STAFF", description="Works at a store.")
    ADMIN = strawberry.enum_value("ADMIN", description="Runs the chain.")
    PARTNER = strawberry.enum_value("PARTNER", description="An aggregator or kiosk.")


@strawberry.type(description="A saved delivery address.")
class Address:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    label: str = strawberry.field(description="The customer's name for it, e.g. Home.")
    line1: str = strawberry.field(description="Street and number.")
    line2: str | None = strawberry.field(description="Apartment, floor, suite.")
    city: str = strawberry.field(description="City.")
    postcode: str = strawberry.field(description="Postal code.")
    location: GeoPoint | None = strawberry.field(description="Coordinates, when geocoded.")
    instructions: str | None = strawberry.field(description="Notes for the driver.")
    is_default: bool = strawberry.field(description="The address used unless another is chosen.")

    @classmethod
    def from_row(cls, row: models.Address) -> Address:
        location = (
            GeoPoint(lat=row.lat, lng=row.lng)
            if row.lat is not None and row.lng is not None
            else None
        )
        return cls(
            id=strawberry.ID(row.id),
            label=row.label,
            line1=row.line1,
            line2=row.line2,
            city=row.city,
            postcode=row.postcode,
            location=location,
            instructions=row.instructions,
            is_default=row.is_default,
        )


def _private(info: Info[SubgraphContext, None], user: User) -> bool:
    return user._signed_in_as or service.can_read_user(info.context.principal, user.id)


@strawberry.federation.type(keys=["id"], description="A person with an account.")
class User:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    name: str = strawberry.field(description="Full name as the user gave it.")
    created_at: datetime = strawberry.field(description="When the account was created.")
    _email: strawberry.Private[str]
    _phone: strawberry.Private[str | None]
    _roles: strawberry.Private[list[str]]
    _store_id: strawberry.Private[str | None]
    _signed_in_as: strawberry.Private[bool] = False
    _active: strawberry.Private[bool] = True

    @strawberry.field(description="False when an admin deactivated the account (no sign-in).")
    def active(self) -> bool:
        return self._active

    @strawberry.field(description="First name, for drivers and store screens.")
    def first_name(self) -> str:
        return self.name.split(" ", 1)[0]

    @strawberry.field(description="Email address; only the user themselves and staff see it.")
    def email(self, info: Info[SubgraphContext, None]) -> str | None:
        return self._email if _private(info, self) else None

    @strawberry.field(description="Phone number; only the user themselves and staff see it.")
    def phone(self, info: Info[SubgraphContext, None]) -> str | None:
        return self._phone if _private(info, self) else None

    @strawberry.field(description="Roles of the account.")
    def roles(self) -> list[Role]:
        return [Role(r) for r in self._roles]

    @strawberry.field(description="Store the user works at (staff and drivers).")
    def store_id(self) -> strawberry.ID | None:
        return strawberry.ID(self._store_id) if self._store_id else None

    @strawberry.field(description="Saved addresses; only the user themselves and staff see them.")
    async def addresses(self, info: Info[SubgraphContext, None]) -> list[Address]:
        if not _private(info, self):
            return []
        return [Address.from_row(a) for a in await info.context.loaders.addresses.load(self.id)]

    @strawberry.field(description="The default delivery address, if any.")
    async def default_address(self, info: Info[SubgraphContext, None]) -> Address | None:
        for address in await self.addresses(info):
            if address.is_default:
                return address
        return None

    @classmethod
    def from_row(cls, row: models.User, *, signed_in_as: bool = False) -> User:
        """``signed_in_as``: the caller just proved to be this user (register, login)."""
        return cls(
            _signed_in_as=signed_in_as,
            id=strawberry.ID(row.id),
            name=row.name,
            created_at=row.created_at,
            _email=row.email,
            _phone=row.phone,
            _roles=row.role_list,
            _store_id=row.store_id,
            _active=row.active is not False,
        )

    @classmethod
    async def resolve_reference(
        cls, info: Info[SubgraphContext, None], id: strawberry.ID
    ) -> User | None:
        row = await info.context.loaders.user.load(str(id))
        return cls.from_row(row) if row else None


@strawberry.type(description="One user in a list.")
class UserEdge:
    cursor: str = strawberry.field(description="Position of this edge.")
    node: User = strawberry.field(description="The user.")


@strawberry.type(description="A page of users.")
class UserConnection:
    edges: list[UserEdge] = strawberry.field(description="The users of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")
    total_count: int = strawberry.field(description="How many users match in all.")


@strawberry.type
class Query:
    @strawberry.field(
        description="The caller (signed-in callers only).", directives=[Authenticated()]
    )
    async def me(self, info: Info[SubgraphContext, None]) -> User | None:
        principal = info.context.principal
        if principal is None:
            return None
        row = await info.context.loaders.user.load(principal.user_id)
        return User.from_row(row) if row else None

    @strawberry.field(description="A user by id (themselves, staff or admin).")
    async def user(self, info: Info[SubgraphContext, None], id: strawberry.ID) -> User | None:
        service.ensure_can_read_user(info.context.principal, str(id))
        row = await info.context.loaders.user.load(str(id))
        return User.from_row(row) if row else None

    @strawberry.field(
        description="All users, newest first (admin).",
        directives=[RequiresScopes(scopes=[["users:read"]])],
    )
    async def users(
        self,
        info: Info[SubgraphContext, None],
        first: Annotated[int, strawberry.argument(description="Page size, at most 100.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor to start after.")
        ] = None,
        role: Annotated[
            Role | None, strawberry.argument(description="Only users with this role.")
        ] = None,
        search: Annotated[
            str | None,
            strawberry.argument(description="Only users whose email or name contains this."),
        ] = None,
        active: Annotated[
            bool | None,
            strawberry.argument(description="Only active (true) or deactivated (false) users."),
        ] = None,
    ) -> UserConnection:
        require_role(info.context.principal, "ADMIN")
        if not 0 < first <= MAX_PAGE:
            raise DomainError(
                f"first must be between 1 and {MAX_PAGE}.", code="BAD_USER_INPUT", field="first"
            )
        try:
            offset = decode_cursor(after) + 1
        except ValueError as exc:
            raise DomainError(
                "The cursor is not valid.", code="BAD_USER_INPUT", field="after"
            ) from exc
        async with info.context.db.session() as session:
            rows, total = await service.list_users(
                session=session,
                offset=offset,
                limit=first,
                role=role.value if role else None,
                search=search,
                active=active,
            )
        edges = [
            UserEdge(cursor=encode_cursor(offset + i), node=User.from_row(r))
            for i, r in enumerate(rows)
        ]
        return UserConnection(
            edges=edges,
            total_count=total,
            page_info=page_info(
                offset=offset, count=len(rows), total=total, cursors=[e.cursor for e in edges]
            ),
        )


@strawberry.input(description="A new customer account.")
class RegisterInput:
    email: str = strawberry.field(description="Email address, used to sign in.")
    password: str = strawberry.field(description="At least 8 characters.")
    name: str = strawberry.field(description="Full name.")
    phone: str | None = strawberry.field(default=None, description="Phone number for the driver.")


@strawberry.input(description="Credentials to sign in.")
class LoginInput:
    email: str = strawberry.field(description="Email address of the account.")
    password: str = strawberry.field(description="Password of the account.")


@strawberry.input(description="A refresh token to trade for new tokens.")
class RefreshTokenInput:
    refresh_token: str = strawberry.field(description="The refresh token from login.")


@strawberry.input(description="Old and new password.")
class ChangePasswordInput:
    current_password: str = strawberry.field(description="The password in use now.")
    new_password: str = strawberry.field(description="The new password, at least 8 characters.")


@strawberry.input(description="A new saved address.")
class AddAddressInput:
    label: str = strawberry.field(description="e.g. Home, Work.")
    line1: str = strawberry.field(description="Street and number.")
    city: str = strawberry.field(description="City.")
    postcode: str = strawberry.field(description="Postal code.")
    line2: str | None = strawberry.field(default=None, description="Apartment, floor, suite.")
    location: GeoPointInput | None = strawberry.field(
        default=None, description="Coordinates from geocode."
    )
    instructions: str | None = strawberry.field(default=None, description="Notes for the driver.")
    make_default: bool = strawberry.field(
        default=False, description="Use it by default from now on."
    )


@strawberry.input(description="Changes to a saved address; omitted fields stay as they are.")
class UpdateAddressInput:
    address_id: strawberry.ID = strawberry.field(description="The address to change.")
    label: str | None = strawberry.field(default=None, description="New label.")
    line1: str | None = strawberry.field(default=None, description="New street and number.")
    line2: str | None = strawberry.field(default=None, description="New apartment, floor, suite.")
    city: str | None = strawberry.field(default=None, description="New city.")
    postcode: str | None = strawberry.field(default=None, description="New postal code.")
    location: GeoPointInput | None = strawberry.field(default=None, description="New coordinates.")
    instructions: str | None = strawberry.field(
        default=None, description="New notes for the driver."
    )


@strawberry.input(description="Which address.")
class AddressIdInput:
    address_id: strawberry.ID = strawberry.field(description="The address.")


@strawberry.input(description="A new account made by an admin: staff, driver, admin or partner.")
class CreateUserInput:
    email: str = strawberry.field(description="Email address, used to sign in.")
    name: str = strawberry.field(description="Full name.")
    password: str = strawberry.field(description="First password, at least 8 characters.")
    roles: list[Role] = strawberry.field(description="At least one role.")
    store_id: strawberry.ID | None = strawberry.field(
        default=None, description="The store (staff and drivers only, and required for them)."
    )
    phone: str | None = strawberry.field(default=None, description="Phone number.")


@strawberry.input(description="New roles (and store) of a user.")
class UpdateUserRolesInput:
    user_id: strawberry.ID = strawberry.field(description="The user.")
    roles: list[Role] = strawberry.field(description="The roles replacing the current ones.")
    store_id: strawberry.ID | None = strawberry.field(
        default=None, description="The store (staff and drivers only, and required for them)."
    )


@strawberry.input(description="Which user.")
class UserIdInput:
    user_id: strawberry.ID = strawberry.field(description="The user.")


@strawberry.type(description="Result of createUser.")
class CreateUserPayload:
    user: User = strawberry.field(description="The new account.")


@strawberry.type(description="Result of updateUserRoles.")
class UpdateUserRolesPayload:
    user: User = strawberry.field(description="The user with the new roles.")


@strawberry.type(description="Result of deactivateUser.")
class DeactivateUserPayload:
    user: User = strawberry.field(description="The deactivated user.")


@strawberry.type(description="Result of reactivateUser.")
class ReactivateUserPayload:
    user: User = strawberry.field(description="The reactivated user.")


@strawberry.type(description="Result of register.")
class RegisterPayload:
    user: User = strawberry.field(description="The new account.")
    access_token: str = strawberry.field(description="Short-lived bearer token.")
    refresh_token: str = strawberry.field(description="Token to get a new access token.")
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")


@strawberry.type(description="Result of login.")
class LoginPayload:
    user: User = strawberry.field(description="The signed-in account.")
    access_token: str = strawberry.field(description="Short-lived bearer token.")
    refresh_token: str = strawberry.field(description="Token to get a new access token.")
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")


@strawberry.type(description="Result of refreshToken.")
class RefreshTokenPayload:
    access_token: str = strawberry.field(description="New short-lived bearer token.")
    refresh_token: str = strawberry.field(description="New refresh token; the old one is spent.")
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")


@strawberry.type(description="Result of logout.")
class LogoutPayload:
    revoked_sessions: int = strawberry.field(description="How many refresh tokens were revoked.")


@strawberry.type(description="Result of changePassword.")
class ChangePasswordPayload:
    user: User = strawberry.field(description="The account.")


@strawberry.type(description="Result of an address mutation.")
class AddressPayload:
    address: Address | None = strawberry.field(
        description="The address changed (null when removed)."
    )
    user: User = strawberry.field(description="The owner, with all addresses.")


@strawberry.type(description="Result of addAddress.")
class AddAddressPayload(AddressPayload):
    pass


@strawberry.type(description="Result of updateAddress.")
class UpdateAddressPayload(AddressPayload):
    pass


@strawberry.type(description="Result of removeAddress.")
class RemoveAddressPayload(AddressPayload):
    pass


@strawberry.type(description="Result of setDefaultAddress.")
class SetDefaultAddressPayload(AddressPayload):
    pass


def _pair_payload(cls: type, pair: service.TokenPair):
    return cls(
        user=User.from_row(pair.user, signed_in_as=True),
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
    )


async def _address_payload(
    cls, info: Info[SubgraphContext, None], session, address: models.Address | None
):
    user = await service.get_user(session=session, user_id=info.context.principal.user_id)
    await session.commit()
    return cls(address=Address.from_row(address) if address else None, user=User.from_row(user))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a customer account and sign it in.")
    async def register(
        self, info: Info[SubgraphContext, None], input: RegisterInput
    ) -> RegisterPayload:
        runtime = info.context.runtime
        async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
            user = await service.register(
                session=session,
                email=input.email,
                password=input.password,
                name=input.name,
                phone=input.phone,
            )
            pair = await service.issue_tokens(session=session, settings=runtime.settings, user=user)
            await events.stage_user_registered(session, user)
            await session.commit()
        return _pair_payload(RegisterPayload, pair)

    @strawberry.mutation(description="Sign in with email and password.")
    async def login(self, info: Info[SubgraphContext, None], input: LoginInput) -> LoginPayload:
        async with info.context.db.session() as session:
            pair = await service.login(
                session=session,
                settings=info.context.runtime.settings,
                email=input.email,
                password=input.password,
            )
            await session.commit()
        return _pair_payload(LoginPayload, pair)

    @strawberry.mutation(description="Trade a refresh token for new tokens (the old one is spent).")
    async def refresh_token(
        self, info: Info[SubgraphContext, None], input: RefreshTokenInput
    ) -> RefreshTokenPayload:
        async with info.context.db.session() as session:
            pair = await service.refresh(
                session=session,
                settings=info.context.runtime.settings,
                refresh_token=input.refresh_token,
            )
            await session.commit()
        return RefreshTokenPayload(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
        )

    @strawberry.mutation(description="Sign out everywhere: revoke the caller's refresh tokens.")
    async def logout(self, info: Info[SubgraphContext, None]) -> LogoutPayload:
        principal = require_principal(info.context.principal)
        async with info.context.db.session() as session:
            count = await service.logout(session=session, principal=principal)
            await session.commit()
        return LogoutPayload(revoked_sessions=count)

    @strawberry.mutation(description="Change the caller's password.")
    async def change_password(
        self, info: Info[SubgraphContext, None], input: ChangePasswordInput
    ) -> ChangePasswordPayload:
        principal = require_principal(info.context.principal)
        async with info.context.db.session() as session:
            user = await service.change_password(
                session=session,
                principal=principal,
                current_password=input.current_password,
                new_password=input.new_password,
            )
            await session.commit()
        return ChangePasswordPayload(user=User.from_row(user))

    @strawberry.mutation(description="Save a delivery address for the caller.")
    async def add_address(
        self, info: Info[SubgraphContext, None], input: AddAddressInput
    ) -> AddAddressPayload:
        principal = require_principal(info.context.principal)
        async with info.context.db.session() as session:
            address = await service.add_address(
                session=session,
                principal=principal,
                label=input.label,
                line1=input.line1,
                line2=input.line2,
                city=input.city,
                postcode=input.postcode,
                lat=input.location.lat if input.location else None,
                lng=input.location.lng if input.location else None,
                instructions=input.instructions,
                make_default=input.make_default,
            )
            return await _address_payload(AddAddressPayload, info, session, address)

    @strawberry.mutation(description="Change one of the caller's addresses.")
    async def update_address(
        self, info: Info[SubgraphContext, None], input: UpdateAddressInput
    ) -> UpdateAddressPayload:
        principal = require_principal(info.context.principal)
        changes: dict[str, object] = {
            key: getattr(input, key)
            for key in ("label", "line1", "line2", "city", "postcode", "instructions")
            if getattr(input, key) is not None
        }
        if input.location is not None:
            changes.update(lat=input.location.lat, lng=input.location.lng)
        async with info.context.db.session() as session:
            address = await service.update_address(
                session=session,
                principal=principal,
                address_id=str(input.address_id),
                changes=changes,
            )
            return await _address_payload(UpdateAddressPayload, info, session, address)

    @strawberry.mutation(description="Delete one of the caller's addresses.")
    async def remove_address(
        self, info: Info[SubgraphContext, None], input: AddressIdInput
    ) -> RemoveAddressPayload:
        principal = require_principal(info.context.principal)
        async with info.context.db.session() as session:
            await service.remove_address(
                session=session, principal=principal, address_id=str(input.address_id)
            )
            return await _address_payload(RemoveAddressPayload, info, session, None)

    @strawberry.mutation(description="Make one of the caller's addresses the default.")
    async def set_default_address(
        self, info: Info[SubgraphContext, None], input: AddressIdInput
    ) -> SetDefaultAddressPayload:
        principal = require_principal(info.context.principal)
        async with info.context.db.session() as session:
            address = await service.set_default_address(
                session=session, principal=principal, address_id=str(input.address_id)
            )
            return await _address_payload(SetDefaultAddressPayload, info, session, address)

    @strawberry.mutation(
        description="Create an account with any roles: staff, driver, admin, partner (admin).",
        directives=[RequiresScopes(scopes=[["admin"]])],
    )
    async def create_user(
        self,
        info: Info[SubgraphContext, None],
        input: Annotated[CreateUserInput, strawberry.argument(description="The new account.")],
    ) -> CreateUserPayload:
        runtime = info.context.runtime
        async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
            user = await management.create_user(
                session=session,
                principal=info.context.principal,
                email=input.email,
                name=input.name,
                password=input.password,
                roles=[r.value for r in input.roles],
                store_id=str(input.store_id) if input.store_id else None,
                phone=input.phone,
            )
            await events.stage_user_registered(session, user)
            await session.commit()
        return CreateUserPayload(user=User.from_row(user))

    @strawberry.mutation(
        description="Replace a user's roles and store (admin); effective from their next token.",
        directives=[RequiresScopes(scopes=[["admin"]])],
    )
    async def update_user_roles(
        self,
        info: Info[SubgraphContext, None],
        input: Annotated[UpdateUserRolesInput, strawberry.argument(description="The change.")],
    ) -> UpdateUserRolesPayload:
        runtime = info.context.runtime
        async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
            user = await management.update_user_roles(
                session=session,
                principal=info.context.principal,
                user_id=str(input.user_id),
                roles=[r.value for r in input.roles],
                store_id=str(input.store_id) if input.store_id else None,
            )
            await session.commit()
        return UpdateUserRolesPayload(user=User.from_row(user))

    @strawberry.mutation(
        description="Deactivate an account (admin): no sign-in or refresh; its refresh tokens "
        "are revoked.",
        directives=[RequiresScopes(scopes=[["admin"]])],
    )
    async def deactivate_user(
        self,
        info: Info[SubgraphContext, None],
        input: Annotated[UserIdInput, strawberry.argument(description="The user.")],
    ) -> DeactivateUserPayload:
        runtime = info.context.runtime
        async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
            user = await management.set_user_active(
                session=session,
                principal=info.context.principal,
                user_id=str(input.user_id),
                active=False,
            )
            await session.commit()
        return DeactivateUserPayload(user=User.from_row(user))

    @strawberry.mutation(
        description="Reactivate a deactivated account (admin); the user can sign in again.",
        directives=[RequiresScopes(scopes=[["admin"]])],
    )
    async def reactivate_user(
        self,
        info: Info[SubgraphContext, None],
        input: Annotated[UserIdInput, strawberry.argument(description="The user.")],
    ) -> ReactivateUserPayload:
        runtime = info.context.runtime
        async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
            user = await management.set_user_active(
                session=session,
                principal=info.context.principal,
                user_id=str(input.user_id),
                active=True,
            )
            await session.commit()
        return ReactivateUserPayload(user=User.from_row(user))


schema = create_schema(query=Query, mutation=Mutation, types=(User,))

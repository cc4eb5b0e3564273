"""Where notifications go: in-app (stored), email over SMTP, SMS and push adapters.

Every channel implements :class:`Channel`. Email is a real SMTP client (the
standard library's ``smtplib``, run in a worker thread so the event loop never
blocks); it is enabled only when ``PIZZA_SMTP_HOST`` is set. SMS and push only
log for now: a provider (Twilio, FCM...) plugs in behind the same protocol.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import Protocol

from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

IN_APP, EMAIL, SMS, PUSH = "IN_APP", "EMAIL", "SMS", "PUSH"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a notification is for and how to reach them."""

    user_id: str
    email: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """What a notification says."""

    title: str
    body: str
    key: str | None = None
    """The notification's id: the same for every attempt at sending it."""


class Channel(Protocol):
    """A way to reach a user; ``send`` raises when the message could not be handed over."""

    name: str

    def can_reach(self, recipient: Recipient) -> bool:
        """Whether this channel knows how to reach the recipient."""
        ...

    async def send(self, *, recipient: Recipient, message: Message) -> None:
        """Hand the message to the provider."""
        ...


class SmtpSettings(BaseSettings):
    """SMTP server of the email channel (``PIZZA_SMTP_*``); empty host disables email."""

    model_config = SettingsConfigDict(env_prefix="PIZZA_SMTP_", extra="ignore")

    host: str = ""
    port: int = 25
    sender: str = "Pizza <no-reply@pizza.example>"
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout_seconds: float = 10.0


class InAppChannel:
    """The stored notification is the in-app message; the app reads it from the API."""

    name = IN_APP

    def can_reach(self, recipient: Recipient) -> bool:
        return True

    async def send(self, *, recipient: Recipient, message: Message) -> None:
        return None


class EmailChannel:
    """Email through an SMTP server with ``smtplib`` in a worker thread."""

    name = EMAIL

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def can_reach(self, recipient: Recipient) -> bool:
        return bool(recipient.email)

    def _send_blocking(self, email: EmailMessage) -> None:
        s = self.settings
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds) as smtp:
            if s.starttls:
                smtp.starttls()
            if s.username:
                smtp.login(s.username, s.password)
            smtp.send_message(email)

    def message_id(self, key: str | None) -> str:
        """``<key@sender-domain>``: the same for every attempt at one notification."""
        domain = parseaddr(self.settings.sender)[1].rpartition("@")[2] or "pizza.example"
        return f"<{key}@{domain}>" if key else make_msgid(domain=domain)

    async def send(self, *, recipient: Recipient, message: Message) -> None:
        if not recipient.email:
            raise ValueError(f"user {recipient.user_id} has no email address")
        email = EmailMessage()
        email["Message-ID"] = self.message_id(message.key)
        email["From"] = self.settings.sender
        email["To"] = recipient.email
        email["Subject"] = message.title
        email.set_content(f"Hi {recipient.name or 'there'},\n\n{message.body}\n")
        await asyncio.to_thread(self._send_blocking, email)


class LogOnlyChannel:
    """SMS or push adapter that only logs (no provider configured)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def can_reach(self, recipient: Recipient) -> bool:
        return True

    async def send(self, *, recipient: Recipient, message: Message) -> None:
        log.info("%s to %s: %s (%s)", self.name, recipient.user_id, message.title, message.key)


def build_channels(smtp: SmtpSettings | None = None) -> dict[str, Channel]:
    """The channels of this process: email only when an SMTP host is configured."""
    smtp = smtp or SmtpSettings()
    channels: dict[str, Channel] = {
        IN_APP: InAppChannel(),
        SMS: LogOnlyChannel(SMS),
        PUSH: LogOnlyChannel(PUSH),
    }
    if smtp.host:
        channels[EMAIL] = EmailChannel(smtp)
    return channels

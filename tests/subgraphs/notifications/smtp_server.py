"""A real SMTP server on a local port, just big enough for ``smtplib``: tests read what arrived."""

from __future__ import annotations

import asyncio
import email
import email.message
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class FakeSmtpServer:
    """Just enough SMTP (RFC 5321) to accept messages from smtplib."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 fake ESMTP\r\n")
        in_data, lines = False, []
        while line := await reader.readline():
            if in_data:
                if line == b".\r\n":
                    self.messages.append(email.message_from_bytes(b"".join(lines)))
                    in_data, lines = False, []
                    writer.write(b"250 queued\r\n")
                else:
                    lines.append(line)
                    continue
            else:
                verb = line[:4].upper()
                if verb == b"DATA":
                    in_data = True
                    writer.write(b"354 end with .\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


@asynccontextmanager
async def smtp_server() -> AsyncIterator[FakeSmtpServer]:
    """A :class:`FakeSmtpServer` listening on a free port of 127.0.0.1 (``.port``)."""
    smtp = FakeSmtpServer()
    server = await asyncio.start_server(smtp.handle, "127.0.0.1", 0)
    smtp.port = server.sockets[0].getsockname()[1]
    async with server:
        yield smtp

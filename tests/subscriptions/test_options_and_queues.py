"""router.yaml ``subscription:`` and a connection's outgoing queue (slow clients)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from router.config import RouterConfig
from router.subscriptions.outgoing import Outgoing, SocketWriter

ROUTER_YAML = {
    "subscription": {
        "enable_deduplication": False,
        "queue_capacity": 4,
        "max_opened_subscriptions": 1000,
        "heartbeat_interval": "2s",
        "ping_interval": "20s",
        "max_operations_per_connection": 7,
        "init_timeout": "500ms",
        "resubscribe_give_up": "30s",
        "replay_latest": ["Subscription.orderUpdated"],
    }
}


def test_router_yaml_sets_the_subscription_options() -> None:
    options = RouterConfig.from_mapping(ROUTER_YAML).subscription
    assert options.deduplicate is False
    assert options.buffer_size == 4
    assert options.max_opened_subscriptions == 1000
    assert options.heartbeat_seconds == 2.0
    assert options.ping_interval_seconds == 20.0
    assert options.max_operations_per_connection == 7
    assert options.init_timeout_seconds == 0.5
    assert options.resubscribe_give_up_seconds == 30.0
    assert options.replay_latest == frozenset({"Subscription.orderUpdated"})


def test_without_a_section_identical_subscriptions_are_shared_and_nothing_replayed() -> None:
    options = RouterConfig.from_mapping({}).subscription
    assert options.deduplicate is True
    assert options.replay_latest == frozenset()
    assert options.max_opened_subscriptions is None


@pytest.mark.parametrize(
    "section",
    [{"replay_latest": "Subscription.orderUpdated"}, {"replay_latest": ["orderUpdated"]}],
)
def test_replay_latest_takes_a_list_of_coordinates(section: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="replay_latest"):
        RouterConfig.from_mapping({"subscription": section})


def test_a_queue_capacity_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="queue_capacity"):
        RouterConfig.from_mapping({"subscription": {"queue_capacity": 0}})


def _drain(outgoing: Outgoing) -> list[str]:
    sent = []
    while (text := outgoing.next()) is not None:
        sent.append(text)
    return sent


def test_a_slow_client_keeps_the_latest_events_of_each_operation() -> None:
    outgoing = Outgoing(3)
    for i in range(10):
        outgoing.event("a", f"a{i}")
    outgoing.event("b", "b0")
    assert _drain(outgoing) == ["a7", "a8", "a9", "b0"]
    assert outgoing.dropped == 7


def test_protocol_messages_go_first_and_are_never_dropped() -> None:
    outgoing = Outgoing(1)
    outgoing.event("a", "a0")
    for i in range(5):
        outgoing.control(f"pong{i}")
    assert _drain(outgoing) == [f"pong{i}" for i in range(5)] + ["a0"]


def test_an_operations_complete_follows_its_queued_events() -> None:
    outgoing = Outgoing(2)
    outgoing.event("a", "a0")
    outgoing.event("a", "a1")
    outgoing.last("a", "complete-a")
    outgoing.last("b", "complete-b")  # nothing queued for b: goes out in order
    assert _drain(outgoing) == ["complete-b", "a0", "a1", "complete-a"]


def test_a_completed_operations_queued_events_are_discarded() -> None:
    outgoing = Outgoing(4)
    outgoing.event("a", "a0")
    outgoing.event("b", "b0")
    outgoing.discard("a")
    assert _drain(outgoing) == ["b0"]
    assert not outgoing.pending


class _Socket:
    """An ASGI send that takes frames at once until ``congested``, then waits for ``drain``."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.congested = False
        self.drain = asyncio.Event()

    async def send(self, message: dict[str, Any]) -> None:
        if self.congested:
            await self.drain.wait()
        self.frames.append(message["text"])


async def test_the_writer_sends_at_once_while_the_socket_takes_frames() -> None:
    socket, outgoing = _Socket(), Outgoing(4)
    writer = SocketWriter(socket.send, outgoing)
    outgoing.control("ack")
    outgoing.event("a", "a0")
    assert socket.frames == ["ack", "a0"]  # sent within the calls, no task involved
    assert not writer.busy


async def test_a_congested_socket_never_blocks_the_pushing_task() -> None:
    socket, outgoing = _Socket(), Outgoing(2)
    writer = SocketWriter(socket.send, outgoing)
    socket.congested = True
    for i in range(5):
        outgoing.event("a", f"a{i}")  # returns at once each time
    outgoing.last("a", "complete")
    assert socket.frames == [] and writer.busy
    socket.congested = False
    socket.drain.set()
    async with asyncio.timeout(2):
        await writer.drained()
    # a0 was in flight; of the rest only the latest two were kept; complete comes last.
    assert socket.frames == ["a0", "a3", "a4", "complete"]
    assert not writer.busy


async def test_a_closed_writer_sends_nothing_more() -> None:
    socket, outgoing = _Socket(), Outgoing(2)
    writer = SocketWriter(socket.send, outgoing)
    writer.close()
    outgoing.control("pong")
    assert socket.frames == []


def test_the_help_shows_a_valid_subscription_section() -> None:
    import yaml

    from router.subscriptions.options import HELP

    section = yaml.safe_load(HELP.split("\n", 1)[1])
    options = RouterConfig.from_mapping(section).subscription
    assert options.max_opened_subscriptions == 20000
    assert options.ping_interval_seconds == 15.0
    assert options.replay_latest == frozenset({"Subscription.orderUpdated"})

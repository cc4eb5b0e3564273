"""``python -m bench.live`` end to end with a handful of subscribers: every one gets messages.

Timing is never asserted (the figures depend on the machine); see docs/benchmarks.md.
"""

from __future__ import annotations

import pytest

from bench import live

pytestmark = pytest.mark.slow


def test_every_subscriber_receives_positions() -> None:
    args = live.parse_args(
        ["--subscribers", "6", "--streams", "2", "--duration", "3", "--port", "4560"]
    )
    result = live.run(args)
    assert result["failed"] == 0, result["client_errors"]
    assert result["subscribed"] == 6
    assert result["subscribers_without_messages"] == 0
    assert result["delivered_messages"] > 0


def test_subscribers_through_a_separate_router_with_workers_and_created_drivers() -> None:
    args = live.parse_args(
        [
            "--subscribers",
            "6",
            "--streams",
            "5",
            "--duration",
            "3",
            "--port",
            "4580",
            "--router-workers",
            "2",
        ]
    )
    result = live.run(args)
    assert result["failed"] == 0, result["client_errors"]
    assert result["settings"]["drivers"] == 3  # Ana, Ben and one the admin created
    assert result["subscribers_without_messages"] == 0
    assert result["delivered_messages"] == result["expected_messages"] > 0

"""Correctly signed but fuzzed gateway events at ``POST /webhooks/payments``: never a 5xx.

Schemathesis cannot sign what it generates, so its webhook cases stop at the signature
check (400); here Hypothesis builds JSON bodies (any JSON, and event-shaped objects whose
fields have any JSON type) and signs them with the stack's secret, so that parsing and
applying an event are fuzzed as well. A 500 is only for a verified event that could not be
applied (the gateway retries it); a malformed one must be a 400 or acknowledged.
"""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from subgraphs.payments import webhooks
from tests.fuzz.conftest import WEBHOOK_SECRET, FuzzStack
from tests.fuzz.runner import FUZZ_SETTINGS, MAX_EXAMPLES

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
EVENT_TYPES = st.sampled_from([*webhooks.HANDLED, "customer.created"]) | st.text(max_size=70)
PAYMENT_OBJECTS = st.fixed_dictionaries(
    {},
    optional={
        "id": JSON_VALUES,
        "payment_intent": JSON_VALUES,
        "metadata": JSON_VALUES | st.fixed_dictionaries({"payment_id": JSON_VALUES}),
        "amount_received": JSON_VALUES,
        "amount_refunded": JSON_VALUES,
        "last_payment_error": JSON_VALUES,
    },
)
EVENTS = st.fixed_dictionaries(
    {
        # A fresh valid id each time, so that events get past parsing and are not duplicates.
        "id": st.uuids().map(lambda u: f"evt_{u.hex}"),
        "type": EVENT_TYPES,
        "data": st.fixed_dictionaries({"object": PAYMENT_OBJECTS}) | JSON_VALUES,
    }
)
MALFORMED_EVENTS = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=70) | JSON_VALUES,
        "type": EVENT_TYPES | JSON_VALUES,
        "data": st.fixed_dictionaries({}, optional={"object": JSON_VALUES}) | JSON_VALUES,
    },
)
BODIES = EVENTS | MALFORMED_EVENTS | JSON_VALUES


def post_signed(fuzz_stack: FuzzStack, body: bytes) -> requests.Response:
    """POST ``body`` to the webhook, signed as the gateway signs it."""
    signature = webhooks.signature_header(payload=body, secret=WEBHOOK_SECRET)
    return requests.post(
        f"{fuzz_stack.subgraphs['payments']}/webhooks/payments",
        data=body,
        headers={"content-type": "application/json", "stripe-signature": signature},
        timeout=30,
    )


def check_signed_webhooks(fuzz_stack: FuzzStack, max_examples: int) -> None:
    @given(body=BODIES)
    @settings(FUZZ_SETTINGS, max_examples=max_examples)
    def run(body: object) -> None:
        response = post_signed(fuzz_stack, json.dumps(body).encode())
        assert response.status_code < 500, (body, response.status_code, response.text)
        assert response.status_code in (200, 400), (body, response.status_code, response.text)

    run()


def test_signed_webhook_events_never_fail_the_server(fuzz_stack: FuzzStack) -> None:
    check_signed_webhooks(fuzz_stack, MAX_EXAMPLES * 2)


@pytest.mark.slow
def test_signed_webhook_events_never_fail_the_server_long(fuzz_stack: FuzzStack) -> None:
    check_signed_webhooks(fuzz_stack, 1000)

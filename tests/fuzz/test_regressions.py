"""Server errors the fuzzers found, kept as plain examples (ADR 0013)."""

from __future__ import annotations

import json

import pytest

from subgraphs.payments import webhooks
from tests.fuzz.conftest import FuzzStack
from tests.fuzz.test_webhook_fuzz import post_signed

NOT_AN_OBJECT = ["x", [1], 3, True]


@pytest.mark.parametrize("data", NOT_AN_OBJECT)
def test_parse_event_refuses_data_that_is_not_an_object(data: object) -> None:
    """``data`` of a list, string, number: ``.get`` on it raised AttributeError (a 500)."""
    body = json.dumps({"id": "evt_1", "type": "charge.refunded", "data": data}).encode()
    with pytest.raises(webhooks.WebhookError) as raised:
        webhooks.parse_event(body)
    assert raised.value.code == "INVALID_PAYLOAD"


@pytest.mark.parametrize("data", NOT_AN_OBJECT)
def test_signed_webhook_with_data_not_an_object_is_a_400(
    data: object, fuzz_stack: FuzzStack
) -> None:
    body = json.dumps({"id": f"evt_list_{data!r}", "type": "charge.refunded", "data": data})
    response = post_signed(fuzz_stack, body.encode())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_PAYLOAD"

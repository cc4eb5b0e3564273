"""What notifications consumes (order, payment, driver, user and review events).

It publishes nothing. Channels live in ``runtime.extras["notification_channels"]``
and retry settings in ``runtime.extras["notification_retry"]`` (both built from the
environment on start; tests may replace them).
"""

from __future__ import annotations

from shared import live
from shared.bus import Event
from shared.subgraph import SubgraphRuntime
from subgraphs.notifications import sending, service
from subgraphs.notifications.channels import IN_APP, build_channels

GROUP = "notifications"
CHANNELS_KEY = "notification_channels"
RETRY_KEY = "notification_retry"


def register_consumers(runtime: SubgraphRuntime) -> None:
    """Notify the right user of every event in ``service.CONSUMED_EVENTS``."""
    runtime.extras.setdefault(CHANNELS_KEY, build_channels())
    runtime.extras.setdefault(RETRY_KEY, sending.RetrySettings())

    async def on_event(event: Event) -> None:
        created = await service.notify(
            db=runtime.db,
            event=event,
            channels=runtime.extras[CHANNELS_KEY],
            max_attempts=runtime.extras[RETRY_KEY].max_attempts,
        )
        await live.publish_live(  # myNotifications subscribers, once stored
            runtime.settings,
            [
                (live.notifications_channel(row.user_id), {"notificationId": row.id})
                for row in created
                if row.channel == IN_APP
            ],
        )

    runtime.bus.subscribe(group=GROUP, types=service.CONSUMED_EVENTS, handler=on_event)

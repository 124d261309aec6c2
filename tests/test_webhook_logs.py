"""Webhook URLs may carry a gateway's token (in the query or as user:password): the
service's logs name them only as scheme://host/path."""

from __future__ import annotations

import logging

import asyncpg
import pytest
from structlog.testing import capture_logs

from dispatch.config import Settings
from dispatch.logs import redact_url
from tests.lines_support import WebhookReceiver, create_line
from tests.sip_peer import free_udp_port
from tests.support import Api, running_service, wait_until

SECRETS = ("Q-SEKRET-111", "P-SEKRET-222", "Q-SEKRET-333")


def test_redact_url_keeps_scheme_host_and_path_only() -> None:
    assert redact_url("https://gw:pw@sms.example:8443/send?token=t#x") == \
        "https://sms.example:8443/send"
    assert redact_url("http://[::1]/hook?k=1") == "http://[::1]/hook"
    assert redact_url("not a url") == "<url>"


async def test_token_bearing_webhook_urls_never_reach_the_logs(
        dsn: str, db: asyncpg.Connection, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    closed_port = free_udp_port()  # nothing listens there over TCP either
    async with WebhookReceiver() as receiver:
        urls = (receiver.url(f"/sms?token={SECRETS[0]}"),
                f"http://gateway:{SECRETS[1]}@127.0.0.1:{closed_port}/hook?key={SECRETS[2]}")
        settings = Settings(database_url=dsn, secret_key="test", line_poll_s=0.2,
                            webhook_backoff_s=0.1, webhook_timeout_s=2.0,
                            webhook_max_attempts=2, failover_webhooks=urls)
        with capture_logs() as logs:
            async with running_service(settings) as url, Api(url, dsn) as api:
                await api.login_all()
                await create_line(api, {"number": "112", "label": "EKSIS 112", "priority": 0,
                                        "probe": {"kind": "heartbeat", "timeout_s": 60}})

                async def settled() -> bool:
                    return await db.fetchval(
                        "SELECT count(*) FROM webhook_deliveries"
                        " WHERE delivered_at IS NOT NULL OR failed_at IS NOT NULL") == 2
                await wait_until(settled, what="both deliveries settled")
    events = {entry["event"] for entry in logs}
    assert {"webhook.delivered", "webhook.gave_up"} <= events, events
    logged = repr(logs) + caplog.text
    assert f"http://127.0.0.1:{closed_port}/hook" in logged
    for secret in SECRETS:
        assert secret not in logged
    assert receiver.received and SECRETS[0] in receiver.received[0].path

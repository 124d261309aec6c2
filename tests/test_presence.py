"""A team whose phone has been gone too long is shown as `signal lost`, and back."""

import asyncio
from dataclasses import replace

from dispatch.config import Settings
from realtime.client import EventClient
from tests.support import WAIT_S, Api, running_service


async def _next_named(client: EventClient, name: str, key: str, seconds: float) -> dict:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        left = deadline - asyncio.get_running_loop().time()
        event = await client.next_event(max(left, 0.01))
        if event["name"] == name and key in event["data"]:
            return event


async def test_signal_lost_then_back(settings: Settings, dsn: str) -> None:
    quick = replace(settings, signal_lost_s=1, sweep_interval_s=0.2)
    async with running_service(quick) as url, Api(url, dsn) as api:
        await api.login_all()
        team = await api.team("HILL", -4.06, 119.68)
        token = await api.device_token("HILL")
        ws_url = url.replace("http", "ws") + "/ws"
        async with EventClient(ws_url, api.tokens["operator"]) as operator:
            phone = EventClient(ws_url, token)
            await phone.__aenter__()
            await phone.drop()  # into Bacukiki's hills, out of signal
            lost = await _next_named(operator, "team.updated", "signal", seconds=WAIT_S)
            assert lost["data"] == {**lost["data"], "id": team["id"], "signal": "lost"}
            async with EventClient(ws_url, token):
                back = await _next_named(operator, "team.updated", "signal",
                                         seconds=WAIT_S)
            assert back["data"]["signal"] == "ok"

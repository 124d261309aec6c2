"""A local SMS gateway stand-in speaking Kannel's, Jasmin's and playSMS's HTTP submit
formats,
and the service set up to send SMS through it."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from dispatch.config import Settings
from tests.support import Api, wait_until

INBOUND_KEY = "inbound-key-1"
TEAM_NUMBER = "+6281234500001"
SECOND_NUMBER = "+6281234500002"


@dataclass
class Received:
    """One message the stand-in took: its format, recipient, text, when."""

    kind: str
    to: str
    text: str
    at: float
    params: dict


@dataclass
class GatewayStandIn:
    """Answers Kannel's `/cgi-bin/sendsms` (202 "0: Accepted for delivery") and
    Jasmin's `/send` (200 `Success "<id>"`) like the real ones; while `down`, 503 as a
    gateway whose modem or SMSC link is gone. Credentials must come as configured."""

    received: list[Received] = field(default_factory=list)
    down: bool = False
    refused: int = 0
    base_url: str = ""

    def _check(self, request: Request, kind: str, text_field: str) -> PlainTextResponse | None:
        params = dict(request.query_params)
        user, secret = ("u", "h") if kind == "playsms" else ("username", "password")
        if params.get(user) != "d112" or params.get(secret) != "rahasia":
            return PlainTextResponse("Authorization failed for sendsms", status_code=403)
        if self.down:
            self.refused += 1
            return PlainTextResponse("3: Queue full", status_code=503)
        self.received.append(Received(kind, params["to"], params[text_field],
                                      time.monotonic(), params))
        return None

    async def kannel(self, request: Request) -> PlainTextResponse:
        return self._check(request, "kannel", "text") or PlainTextResponse(
            "0: Accepted for delivery", status_code=202)

    async def jasmin(self, request: Request) -> PlainTextResponse:
        error = self._check(request, "jasmin", "content")
        if error is not None:
            return PlainTextResponse('Error "Cannot send"', status_code=error.status_code)
        return PlainTextResponse(f'Success "{uuid.uuid4()}"')

    async def playsms(self, request: Request) -> JSONResponse:
        if request.query_params.get("app") != "ws" or request.query_params.get("op") != "pv":
            return JSONResponse({"status": "ERR", "error": "102"}, status_code=400)
        error = self._check(request, "playsms", "msg")
        if error is not None:
            return JSONResponse({"status": "ERR", "error": "100",
                                 "error_string": "authentication failed"}, status_code=200)
        return JSONResponse({"data": [{"status": "OK", "error": "0", "smslog_id": "4711",
                                       "to": request.query_params["to"]}]})

    def setting(self, kind: str) -> tuple[str, str]:
        if kind == "playsms":
            return kind, f"{self.base_url}/index.php?app=ws&u=d112&h=rahasia"
        path = "/cgi-bin/sendsms" if kind == "kannel" else "/send"
        return kind, f"{self.base_url}{path}?username=d112&password=rahasia"

    def texts(self, to: str | None = None) -> list[str]:
        return [r.text for r in self.received if to is None or r.to.lstrip("+") == to.lstrip("+")]


@asynccontextmanager
async def gateway_stand_in() -> AsyncIterator[GatewayStandIn]:
    stand_in = GatewayStandIn()
    app = Starlette(routes=[Route("/cgi-bin/sendsms", stand_in.kannel),
                            Route("/send", stand_in.jasmin, methods=["GET", "POST"]),
                            Route("/index.php", stand_in.playsms)])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    stand_in.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    server.install_signal_handlers = lambda: None
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await wait_until(lambda: server.started, what="the gateway stand-in", poll_s=0.01)
    try:
        yield stand_in
    finally:
        server.should_exit = True
        await task
        sock.close()


def sms_settings(dsn: str, gateway: tuple[str, str], **values: object) -> Settings:
    """The test service's settings with SMS through `gateway`."""
    base = {"sweep_interval_s": 0.2, "pool_max": 20, "device_burst": 10_000,
            "sms_poll_s": 0.1, "sms_backoff_s": 0.2, "sms_backoff_max_s": 0.5,
            "sms_timeout_s": 5.0, "ack_timeout_s": 600, **values}
    return Settings(database_url=dsn, secret_key="test", sms_gateway=gateway,
                    sms_inbound_key=INBOUND_KEY, **base)


async def sms_team(api: Api, code: str, lat: float, lon: float, *numbers: str) -> dict:
    """A team on duty with its SMS numbers registered (by the admin)."""
    team = await api.team(code, lat, lon)
    response = await api.post(f"/api/v1/teams/{team['id']}/sms-numbers",
                              {"numbers": list(numbers)}, role="admin")
    assert response.status_code == 200, response.text
    return response.json()


async def reply(api: Api, sender: str, text: str, **extra: str) -> dict:
    """The gateway hands the service an SMS received (Kannel's GET get-url style)."""
    response = await api.get("/api/v1/sms/inbound", role=None,
                             params={"from": sender, "text": text, "key": INBOUND_KEY,
                                     **extra})
    assert response.status_code == 200, response.text
    return response.json()

"""Outbound SMS through the gateways Indonesian agencies run, chosen by
`DISPATCH112_SMS_GATEWAY` (`kind:URL`). Each adapter submits one message over its
gateway's HTTP API and returns the gateway's id of it (None when the API gives none),
or raises GatewayRefused. Credentials stay in the URL's query, as each API wants
them; the URL is never logged whole (dispatch.logs.redact_url).

- Kannel (`/cgi-bin/sendsms`): GET `URL&to=&text=`; any 2xx ("0: Accepted for
  delivery", "Sent.") is accepted. Kannel gives no message id here.
- Jasmin (HTTP API `/send`): GET `URL&to=&content=`; 200 `Success "<id>"`, else
  `Error "<why>"`. `to` in international digits without the plus.
- playSMS (`index.php?app=ws&u=&h=`): GET with `op=pv&to=&msg=`; JSON whose
  `data[0].status` is "OK" (with `smslog_id`), else `status` "ERR" and `error`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx


class GatewayRefused(Exception):
    """The gateway did not take the message (or could not be reached); retried."""


def with_query(url: str, **params: str) -> str:
    """`url` with `params` added to its query (its own parameters kept first)."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


async def _get(client: httpx.AsyncClient, url: str) -> httpx.Response:
    try:
        return await client.get(url)
    except httpx.HTTPError as exc:
        raise GatewayRefused(type(exc).__name__) from None


async def send_kannel(client: httpx.AsyncClient, url: str, to: str, text: str) -> str | None:
    response = await _get(client, with_query(url, to=to, text=text, charset="UTF-8"))
    if not response.is_success:
        raise GatewayRefused(f"HTTP {response.status_code}: {response.text[:100]}")
    return None


async def send_jasmin(client: httpx.AsyncClient, url: str, to: str, text: str) -> str | None:
    response = await _get(client, with_query(url, to=to.lstrip("+"), content=text))
    match = re.match(r'\s*Success\s+"([^"]+)"', response.text)
    if response.status_code != 200 or match is None:
        raise GatewayRefused(f"HTTP {response.status_code}: {response.text[:100]}")
    return match.group(1)


async def send_playsms(client: httpx.AsyncClient, url: str, to: str, text: str) -> str | None:
    response = await _get(client, with_query(url, op="pv", to=to, msg=text))
    try:
        answer = response.json()
        item = (answer.get("data") or [{}])[0]
    except (ValueError, AttributeError, IndexError, TypeError):
        raise GatewayRefused(f"HTTP {response.status_code}: not playSMS's JSON") from None
    if not response.is_success or item.get("status") != "OK":
        raise GatewayRefused(f"HTTP {response.status_code}: "
                             f"{answer.get('error_string') or answer.get('error')}")
    return str(item.get("smslog_id")) if item.get("smslog_id") is not None else None


Sender = Callable[[httpx.AsyncClient, str, str, str], Awaitable[str | None]]
SENDERS: dict[str, Sender] = {"kannel": send_kannel, "jasmin": send_jasmin,
                              "playsms": send_playsms}


def get_sender(kind: str) -> Sender:
    """The adapter of a gateway kind (config.py accepts only these)."""
    return SENDERS[kind]

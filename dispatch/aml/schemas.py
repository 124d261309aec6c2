"""Request body of an AML SMS, as the SMS gateway forwards it; the shared key the SMS
gateway or the HTTPS receiver may send instead of a gateway token."""

from __future__ import annotations

import hmac

from pydantic import Field
from starlette.requests import Request

from dispatch.errors import Unauthorized
from dispatch.schemas import Body, Phone, Text, Time

KEY_HEADER = "x-aml-key"
# How the event log names a sender that came in with the shared key (no user).
KEY_ACTOR = "gateway:aml-key"


class AmlSmsIn(Body):
    # The sender: the handset that dialled 112 (the IMSI and IMEI in the text are dropped).
    sender: Phone = Field(alias="from")
    text: Text(1000, 1)
    received_at: Time | None = None


def check_aml_key(request: Request) -> bool:
    """Whether the request carries the AML key (header `X-AML-Key`, else `key=` in the
    query): then it must equal DISPATCH112_AML_KEY, compared in constant time, else
    401 (also when no key is configured). Without one, the caller needs a gateway
    token. Any text may come in (non-ASCII too): compared as UTF-8 bytes, never a 500."""
    given = request.headers.get(KEY_HEADER)
    if given is None:
        given = request.query_params.get("key")
    if given is None:
        return False
    expected = request.app.state.settings.aml_key
    # Encoded with surrogates escaped: a header Starlette decoded as Latin-1, or a
    # query with broken escapes, still compares (and fails) as plain bytes.
    if not expected or not hmac.compare_digest(given.encode("utf-8", "surrogateescape"),
                                               expected.encode("utf-8", "surrogateescape")):
        raise Unauthorized("wrong AML key / kunci AML salah")
    return True

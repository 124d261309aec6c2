"""Request body of an AML SMS, as the SMS gateway forwards it."""

from __future__ import annotations

from pydantic import Field

from dispatch.schemas import Body, Phone, Text, Time


class AmlSmsIn(Body):
    # The sender: the handset that dialled 112 (the IMSI and IMEI in the text are dropped).
    sender: Phone = Field(alias="from")
    text: Text(1000, 1)
    received_at: Time | None = None

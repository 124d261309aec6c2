"""Request bodies of logging in."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from dispatch.schemas import Body, Code, Text


class TokenRequest(Body):
    username: Text(64, 1)
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class DeviceRequest(Body):
    team_code: Code
    pin: Annotated[str, StringConstraints(min_length=1, max_length=64)]

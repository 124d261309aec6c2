"""Page sessions: the bearer token kept in an HttpOnly cookie, and CSRF protection.

A page's own scripts cannot read the cookie. Every state-changing request made
with the cookie (forms and the pages' API calls) must carry the CSRF token, an
HMAC of the session token under the service's secret key, which the server puts
in the page: a foreign site can make the browser send the cookie but cannot
know that value.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import HTTPConnection
from starlette.responses import Response

from dispatch.errors import CsrfRefused

COOKIE = "dispatch112_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Before login there is no session yet; the login forms are bound to this cookie.
PRELOGIN_COOKIE = "dispatch112_prelogin"


def get_session_token(connection: HTTPConnection) -> str | None:
    token = connection.cookies.get(COOKIE)
    return token if token and len(token) <= 256 else None


def make_csrf(secret_key: str, session_token: str) -> str:
    return hmac.new(secret_key.encode(), b"csrf:" + session_token.encode(),
                    hashlib.sha256).hexdigest()


def check_csrf(connection: HTTPConnection, session_token: str, submitted: str | None) -> None:
    """403 unless `submitted` is the CSRF token of this session; any other value,
    non-ASCII text included, is just a wrong token."""
    expected = make_csrf(connection.app.state.settings.secret_key, session_token)
    if not submitted or not submitted.isascii() or not hmac.compare_digest(expected, submitted):
        raise CsrfRefused("missing or wrong CSRF token; reload the page")


def is_secure(connection: HTTPConnection) -> bool:
    """Over HTTPS, directly or behind a TLS proxy named in DISPATCH112_PUBLIC_ORIGIN."""
    public = connection.app.state.settings.public_origin or ""
    return connection.url.scheme in ("https", "wss") or public.startswith("https://")


def set_cookie(response: Response, connection: HTTPConnection, name: str, value: str,
               max_age: int) -> None:
    """HttpOnly, SameSite=Strict; Secure whenever the page came over HTTPS."""
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict",
                        secure=is_secure(connection), path="/")


def clear_cookie(response: Response, name: str = COOKIE) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="strict")

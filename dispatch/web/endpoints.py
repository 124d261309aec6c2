"""Page routes: login and logout, the dashboard, the team view, the reports and planner
pages."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import pydantic
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from dispatch.auth.schemas import DeviceRequest, TokenRequest
from dispatch.auth.service import (
    IssuedToken,
    Principal,
    client_address,
    do_device_login,
    do_login,
    do_logout,
    get_principal,
)
from dispatch.errors import DispatchError, Forbidden, Unauthorized
from dispatch.geo.roads import has_road_graph
from dispatch.states import get_team_steps
from dispatch.vocabulary import LANDING, REPORT_READERS, RESPONDER, STAFF
from dispatch.web import session

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
MAX_FORM_BYTES = 4096


async def get_page_principal(request: Request) -> Principal | None:
    """The logged-in principal of this browser, or None."""
    token = session.get_session_token(request)
    if token is None:
        return None
    async with request.app.state.ctx.acquire() as conn:
        try:
            return await get_principal(conn, token)
        except Unauthorized:
            return None


def render(request: Request, template: str, status_code: int = 200, *,
           csrf_for: str | None = None, **context) -> Response:
    """A page with its CSRF token (of the session, or of `csrf_for` before login) and
    a Content-Security-Policy that lets nothing load from elsewhere."""
    settings = request.app.state.settings
    token = csrf_for or session.get_session_token(request)
    csrf = session.make_csrf(settings.secret_key, token) if token else ""
    response = TEMPLATES.TemplateResponse(request, template, {
        "csrf": csrf, "tile_url": settings.tile_url or "", "timezone": settings.timezone,
        "road_map": has_road_graph(request.app.state.ctx), **context}, status_code=status_code)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data: blob:" + (
            f" {settings.tile_origin}" if settings.tile_origin else "")
        + "; style-src 'self'; script-src 'self'; connect-src 'self'; "
          "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _login_page(request: Request, template: str, error: str | None = None,
                status_code: int = 200) -> Response:
    """The form, bound to a pre-login cookie so that its CSRF token can be checked."""
    token = request.cookies.get(session.PRELOGIN_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, template, status_code=status_code, csrf_for=token, error=error)
    session.set_cookie(response, request, session.PRELOGIN_COOKIE, token, 3600)
    return response


async def _read_form(request: Request) -> dict[str, str]:
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        return {}
    form = await request.form(max_files=0, max_fields=10)
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _check_login_csrf(request: Request, form: dict[str, str]) -> None:
    token = request.cookies.get(session.PRELOGIN_COOKIE) or ""
    session.check_csrf(request, token, form.get(session.CSRF_FIELD))


def _logged_in(request: Request, issued: IssuedToken) -> Response:
    response = RedirectResponse(LANDING[issued.role], status_code=303)
    ttl = int((issued.expires_at - datetime.now(UTC)).total_seconds())
    session.set_cookie(response, request, session.COOKIE, issued.token, ttl)
    session.clear_cookie(response, session.PRELOGIN_COOKIE)
    return response


async def _user_login(request: Request, form: dict[str, str]) -> IssuedToken:
    body = TokenRequest.model_validate({"username": form.get("username", ""),
                                        "password": form.get("password", "")})
    issued = await do_login(request.app.state.ctx, request.app.state.settings,
                            body.username, body.password, client_address(request))
    if issued.role not in LANDING:  # the gateway: a machine with no page
        async with request.app.state.ctx.pool.acquire() as conn:
            await do_logout(conn, issued.token)
        raise Forbidden(f"role {issued.role} has no pages")
    return issued


async def _device_login(request: Request, form: dict[str, str]) -> IssuedToken:
    body = DeviceRequest.model_validate({"team_code": form.get("team_code", ""),
                                         "pin": form.get("pin", "")})
    return await do_device_login(request.app.state.ctx, request.app.state.settings,
                                 body.team_code, body.pin, client_address(request))


def _login_route(template: str, authenticate):
    """GET shows the form; POST checks its CSRF token and the credentials, then sets
    the session cookie and lands on the role's page (or shows the form again)."""
    async def handler(request: Request) -> Response:
        if request.method == "GET":
            return _login_page(request, template)
        form = await _read_form(request)
        try:
            _check_login_csrf(request, form)
            issued = await authenticate(request, form)
        except (DispatchError, pydantic.ValidationError) as exc:
            status = exc.status if isinstance(exc, DispatchError) else 422
            error = "locked" if status == 429 else "login"
            return _login_page(request, template, error=error, status_code=status)
        return _logged_in(request, issued)
    return handler


async def logout(request: Request) -> Response:
    form = await _read_form(request)
    token = session.get_session_token(request)
    if token is not None:
        session.check_csrf(request, token, form.get(session.CSRF_FIELD))
        async with request.app.state.ctx.acquire() as conn:
            await do_logout(conn, token)
    target = "/team/login" if form.get("next") == "team" else "/login"
    response = RedirectResponse(target, status_code=303)
    session.clear_cookie(response)
    return response


def _page(template: str, roles: tuple[str, ...], login_path: str, **context):
    """A page for `roles`: others land on their own page, strangers on `login_path`."""
    async def page(request: Request) -> Response:
        principal = await get_page_principal(request)
        if principal is None:
            return RedirectResponse(login_path, status_code=303)
        if principal.role not in roles:
            return RedirectResponse(LANDING.get(principal.role, "/login"), status_code=303)
        return render(request, template, principal=principal, **context)
    return page


async def fresh_csrf(request: Request) -> Response:
    """GET /session/csrf: the CSRF token of this browser's valid session, for a page
    whose token went stale (the service's key changed); 401 without a valid session."""
    if await get_page_principal(request) is None:
        raise Unauthorized("no valid page session; log in again")
    csrf = session.make_csrf(request.app.state.settings.secret_key,
                             session.get_session_token(request))
    return JSONResponse({"csrf_token": csrf}, headers={"Cache-Control": "no-store"})


async def home(request: Request) -> Response:
    principal = await get_page_principal(request)
    landing = LANDING.get(principal.role, "/login") if principal else "/login"
    return RedirectResponse(landing, status_code=303)


routes = [
    Route("/", home, methods=["GET"]),
    Route("/login", _login_route("login.html", _user_login), methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/session/csrf", fresh_csrf, methods=["GET"]),
    Route("/team/login", _login_route("team_login.html", _device_login),
          methods=["GET", "POST"]),
    Route("/dashboard", _page("dashboard.html", STAFF, "/login"), methods=["GET"]),
    Route("/team", _page("team.html", (RESPONDER,), "/team/login", steps=get_team_steps()),
          methods=["GET"]),
    Route("/reports", _page("reports.html", REPORT_READERS, "/login"), methods=["GET"]),
    Route("/planner", _page("planner.html", REPORT_READERS, "/login"), methods=["GET"]),
]

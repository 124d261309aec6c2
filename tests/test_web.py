"""Page sessions and the gazetteer, without a browser: cookie flags, CSRF, logout,
place search."""

import re

import httpx

from db.places import upsert_place
from tests.support import PASSWORDS, Api


async def _login(client: httpx.AsyncClient) -> httpx.Response:
    form = await client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return await client.post("/login", data={"username": "operator", "csrf_token": csrf,
                                             "password": PASSWORDS["operator"]})


async def test_login_sets_a_strict_httponly_cookie_and_lands_on_the_dashboard(service: str,
                                                                              api: Api) -> None:
    async with httpx.AsyncClient(base_url=service) as client:
        response = await _login(client)
        assert response.status_code == 303
        assert response.headers["location"] == "/dashboard"
        cookie = next(h for h in response.headers.get_list("set-cookie")
                      if h.startswith("dispatch112_session="))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        page = await client.get("/dashboard")
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]


async def test_login_form_without_csrf_token_is_refused(service: str, api: Api) -> None:
    async with httpx.AsyncClient(base_url=service) as client:
        await client.get("/login")
        response = await client.post("/login", data={"username": "operator",
                                                      "password": PASSWORDS["operator"]})
        assert response.status_code == 403
        assert "dispatch112_session" not in response.headers.get("set-cookie", "")


async def test_cookie_api_calls_need_the_csrf_header(service: str, api: Api) -> None:
    async with httpx.AsyncClient(base_url=service) as client:
        await _login(client)
        page = await client.get("/dashboard")
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        body = {"caller_number": "0812345678", "location": {"lat": -4.0, "lon": 119.64},
                "address": "Jl. A", "complaint": "x", "priority": 2}
        forged = await client.post("/api/v1/incidents", json=body)
        assert forged.status_code == 403
        assert (await client.get("/api/v1/incidents")).status_code == 200
        real = await client.post("/api/v1/incidents", json=body, headers={"X-CSRF-Token": csrf})
        assert real.status_code == 201
        logout = await client.post("/logout", data={"csrf_token": csrf})
        assert logout.status_code == 303
        assert (await client.get("/api/v1/incidents")).status_code == 401
        assert (await client.get("/dashboard")).headers["location"] == "/login"


async def test_pages_check_roles(service: str, api: Api) -> None:
    async with httpx.AsyncClient(base_url=service) as client:
        assert (await client.get("/dashboard")).headers["location"] == "/login"
        assert (await client.get("/team")).headers["location"] == "/team/login"
        assert (await client.get("/reports")).headers["location"] == "/login"
        assert (await client.get("/planner")).headers["location"] == "/login"
        await _login(client)
        # An operator sent to the health office's pages lands back on the dashboard.
        assert (await client.get("/reports")).headers["location"] == "/dashboard"
        assert (await client.get("/planner")).headers["location"] == "/dashboard"
        assert (await client.get("/team")).headers["location"] == "/dashboard"


async def test_gazetteer_search(api: Api, db) -> None:
    await upsert_place(db, "Lompoe", "kelurahan", -4.0199, 119.6514)
    await upsert_place(db, "Puskesmas Lompoe", "faskes", -4.034359, 119.679390)
    await upsert_place(db, "Cappa Galung", "kelurahan", -4.0, 119.63)
    found = (await api.get("/api/v1/places?q=lomp")).json()["items"]
    assert [p["name"] for p in found] == ["Lompoe", "Puskesmas Lompoe"]
    assert found[0]["lat"] == -4.0199
    assert (await api.get("/api/v1/places?q=%25")).status_code == 422
    assert (await api.get("/api/v1/places?q=100%25")).json()["items"] == []
    assert (await api.get("/api/v1/places?q=lomp", role="health_office")).status_code == 403


async def test_locked_out_login_page_says_to_wait(service: str, api: Api) -> None:
    async with httpx.AsyncClient(base_url=service) as client:
        for _ in range(6):
            form = await client.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
            response = await client.post("/login", data={
                "username": "operator", "password": "wrong", "csrf_token": csrf})
        assert response.status_code == 429
        assert "Terlalu banyak percobaan" in response.text


async def test_non_ascii_csrf_tokens_are_refused_like_any_wrong_token(service: str,
                                                                      api: Api) -> None:
    async with httpx.AsyncClient(base_url=service) as client:
        await client.get("/login")
        form = await client.post("/login", data={"username": "operator", "csrf_token": "é",
                                                 "password": PASSWORDS["operator"]})
        assert form.status_code == 403
        assert "dispatch112_session" not in form.headers.get("set-cookie", "")
        await _login(client)
        body = {"caller_number": "0812345678", "location": {"lat": -4.0, "lon": 119.64},
                "address": "Jl. A", "complaint": "x", "priority": 2}
        for value in ("é".encode(), "\u00e9".encode("latin-1"), b"\xff" * 64):
            answer = await client.post("/api/v1/incidents", json=body,
                                       headers={"X-CSRF-Token": value})
            assert answer.status_code == 403, (value, answer.text)
            assert answer.json()["type"] == "/problems/csrf"


async def test_a_page_session_can_fetch_its_csrf_token_again(service: str, api: Api) -> None:
    async with httpx.AsyncClient(base_url=service) as client:
        assert (await client.get("/session/csrf")).status_code == 401
        await _login(client)
        page = await client.get("/dashboard")
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        fresh = await client.get("/session/csrf")
        assert fresh.status_code == 200 and fresh.json() == {"csrf_token": csrf}
        assert fresh.headers["cache-control"] == "no-store"

"""What the tests in a real headless Chromium share: a watch on what a page must not
do, and logging in as staff or as a team's phone."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.support import WAIT_S

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
XSS = '<img src=x onerror="window.__pwned=1;alert(1)">'
PHONE_PIN = "432100"
# Every expectation waits up to this long (it passes as soon as it holds).
expect.set_options(timeout=WAIT_S * 1000)


class Watch:
    """Collects what a page did that it must not: dialogs, script errors, foreign requests."""

    def __init__(self, base_url: str) -> None:
        self.base_url, self.dialogs, self.errors, self.foreign = base_url, [], [], []

    def attach(self, context: BrowserContext) -> None:
        context.on("request", self._request)
        context.on("page", self._page)

    def _page(self, page: Page) -> None:
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message),
                                          dialog.dismiss()))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _request(self, request) -> None:
        url = request.url
        ws_base = self.base_url.replace("http", "ws", 1)
        if not url.startswith((self.base_url, ws_base, "data:", "blob:")):
            self.foreign.append(url)


async def staff_page(browser: Browser, base_url: str, watch: Watch, username: str,
                     password: str, *, landing: str = "/dashboard",
                     height: int = 800) -> Page:
    """A desktop browser logged in through /login, on the page it lands on."""
    context = await browser.new_context(viewport={"width": 1366, "height": height},
                                        locale="id-ID")
    watch.attach(context)
    page = await context.new_page()
    await _log_in(page, f"{base_url}/login", {"username": username, "password": password},
                  f"{base_url}{landing}")
    return page


async def phone_page(browser: Browser, base_url: str, watch: Watch, code: str, *,
                     position: tuple[float, float] | None = None,
                     init_script: str | None = None) -> tuple[Page, BrowserContext]:
    """A phone logged in as team `code` on /team; `position`: the GPS it reports."""
    where = {} if position is None else {
        "permissions": ["geolocation"],
        "geolocation": {"latitude": position[0], "longitude": position[1]}}
    context = await browser.new_context(viewport={"width": 360, "height": 740},
                                        is_mobile=True, has_touch=True, locale="id-ID",
                                        **where)
    watch.attach(context)
    if init_script is not None:
        await context.add_init_script(init_script)
    page = await context.new_page()
    await _log_in(page, f"{base_url}/team/login", {"team_code": code, "pin": PHONE_PIN},
                  f"{base_url}/team")
    return page, context


async def _log_in(page: Page, form_url: str, fields: dict[str, str], landing: str) -> None:
    """Fill the login form at `form_url` and wait for the page it lands on."""
    await page.goto(form_url)
    for name, value in fields.items():
        await page.fill(f"input[name={name}]", value)
    await page.click("button[type=submit]")
    await page.wait_for_url(landing)

"""`/docs` and `/redoc` as a person sees them: a real `mutualaid serve` process and Debian's
chromium, headless, driven by Playwright, with every request that leaves this machine refused
(a government network without internet access). Swagger UI draws every operation of the spec
without asking any other host for anything;
Authorize with an API key works, and "Try it out" on `GET /v1/clients/me` answers 200. A
screenshot of the page is left in `var/screenshots/docs.png` for people to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Route, async_playwright

from app.core.policy import Role
from tests.support.processes import environment, free_port, running, start, wait_until_serving

pytestmark = pytest.mark.only_backend("sqlite")  # the page, not the database, is under test

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "var" / "screenshots" / "docs.png"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As the machine's own browser tests start it: no background traffic to Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required when CI=true (make test installs it)")
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    return CHROMIUM


@pytest.fixture
async def service(settings, db):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start(["serve", "--port", str(port)], environment(settings))
    with running(server):
        await wait_until_serving(url)
        yield url


async def test_the_docs_render_offline_and_try_a_call(service, chromium, api_key):
    key = await api_key(Role.EXAMINER, name="docs reader")
    async with httpx.AsyncClient(base_url=service) as http:
        spec = (await http.get("/openapi.json")).json()
    operations = sum(len(item) for item in spec["paths"].values())
    refused: list[str] = []

    async def only_this_machine(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort("internetdisconnected")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 2000})
            await page.route("**/*", only_this_machine)
            await page.goto(f"{service}/docs")
            await page.locator(".opblock").first.wait_for(timeout=30_000)
            rendered = await page.locator(".opblock").count()

            await page.locator("button.authorize").first.click()
            await page.locator(".auth-container input").first.fill(key)
            await page.locator(".auth-btn-wrapper button.authorize").click()
            await page.locator("button.btn-done").click()
            operation = page.locator("#operations-clients-clients_me")
            await operation.locator(".opblock-summary").click()
            await operation.locator("button.try-out__btn").click()
            await operation.locator("button.execute").click()
            status = operation.locator(".live-responses-table tbody .response-col_status").first
            await status.wait_for(timeout=15_000)
            answered = (await status.inner_text()).strip()
            shown = await operation.locator(".live-responses-table .microlight").first.inner_text()

            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT), full_page=False)

            refused_by_docs = list(refused)
            await page.goto(f"{service}/redoc")
            await page.locator(".api-content h2").first.wait_for(timeout=30_000)
            redoc_sections = await page.locator(".api-content h2").count()
        finally:
            await browser.close()

    assert refused_by_docs == []  # Swagger UI did not even ask another host for anything
    # ReDoc draws everything from this process too; its bundle only links its vendor's logo.
    assert all(url.endswith(".svg") for url in refused), refused
    assert rendered == operations, (rendered, operations)
    assert answered == "200"
    assert '"role": "examiner"' in shown
    assert redoc_sections >= operations
    assert SCREENSHOT.stat().st_size > 10_000

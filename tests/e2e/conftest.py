"""A real browser for end-to-end tests: Debian's chromium through Playwright.

Playwright never downloads a browser here; it drives /usr/bin/chromium
(installed by scripts/system-packages.sh test).
"""

import shutil

import pytest

from acorn.env import env

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path():
    path = env("ACORN_CHROMIUM", "") or shutil.which("chromium")
    if not path:
        pytest.fail("chromium is not installed: run `bash scripts/system-packages.sh test`")
    return path


@pytest.fixture
def browser_page(chromium_path, tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's
    # own ORM calls are still synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            page.screenshot(path=str(tmp_path / "last.png"), full_page=True)
            context.close()
            browser.close()

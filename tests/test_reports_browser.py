"""The report page in a real headless browser (Debian chromium + chromidriver through Selenium):
what a manager sees, and that a number's link scrolls to the tickets behind it. Skipped only
where no browser is installed, never in CI."""

from __future__ import annotations

import os
import shutil

import pytest

from .test_reports import report  # noqa: F401  (the hand-counted month, written to a folder)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    if not (CHROMIUM and DRIVER):
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have chromium and chromium-driver (apt-get install, .ci/run)")
        pytest.skip("no chromium/chromedriver here: apt-get install chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument("--window-size=1200,800")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


async def test_manager_sees_the_headline_and_follows_a_number_to_its_tickets(
    report,  # noqa: F811
    browser,
):
    from selenium.webdriver.common.by import By

    browser.get((report.out / "index.html").as_uri())
    headline = browser.find_element(By.ID, "h-created")
    assert "\u65b0\u5efa\u5de5\u5355" in headline.text and "8" in headline.text
    assert browser.find_element(By.ID, "h-overdue").find_element(By.TAG_NAME, "a").text == "3"
    charts = browser.find_elements(By.CSS_SELECTOR, "img")
    assert len(charts) == 4
    assert all(browser.execute_script("return arguments[0].naturalWidth", c) > 0 for c in charts)
    assert "agent_wang" in browser.find_element(By.ID, "table-agents").text

    browser.find_element(By.ID, "h-overdue").find_element(By.TAG_NAME, "a").click()
    assert browser.current_url.endswith("#list-overdue")
    target = browser.find_element(By.ID, "list-overdue")
    numbers = [e.text for e in target.find_elements(By.CLASS_NAME, "ticket")]
    assert sorted(numbers) == ["BX-2", "BX-4", "BX-6"]
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", target)
    height = browser.execute_script("return window.innerHeight")
    assert browser.execute_script("return window.scrollY") > 0 and 0 <= top < height / 2

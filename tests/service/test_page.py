"""The coordinator's page in a real browser: headless Chromium driven with selenium against the
real server (`matcher serve` in a subprocess). Paste the key, upload a roster workbook, plan it
with greedy, watch it finish, read the plan by day and by volunteer against the plan the API
gives, switch to Chinese, download the workbook and read it back with openpyxl, and save a
screenshot. Skipped only where Chromium and its driver are not installed (CI installs them)."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from openpyxl import load_workbook

from matcher.desk import write_template
from tests.desk.conftest import fill_roster
from tests.service.conftest import EXAMPLES, Running, add_tenant

webdriver = pytest.importorskip("selenium.webdriver")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Chromium and its driver (apt-get install chromium chromium-driver)",
)

WAIT_S = 60.0
"""The longest the page may take to get somewhere (the machine is shared)."""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
T = TypeVar("T")


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[Any]:
    """Headless Chromium that saves downloads to `downloads` without asking."""
    options = webdriver.ChromeOptions()
    assert CHROMIUM is not None and CHROMEDRIVER is not None
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1400",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    driver = webdriver.Chrome(
        options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER)
    )
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def key(service: Running) -> str:
    return add_tenant(service.server.data_dir, "page-browser")


def wait(browser: Any, condition: Callable[[Any], T], message: str) -> T:
    result: T = WebDriverWait(browser, WAIT_S, poll_frequency=0.1).until(condition, message)
    return result


def text_of(browser: Any, selector: str) -> str:
    text: str = browser.find_element(By.CSS_SELECTOR, selector).text
    return text


def open_page(browser: Any, service: Running, key: str) -> None:
    """Open the page afresh and paste the key."""
    browser.get(f"{service.server.url}/")
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{service.server.url}/")
    browser.find_element(By.ID, "api-key").send_keys(key)
    browser.find_element(By.ID, "save-key").click()
    wait(browser, lambda b: text_of(b, "#key-status") == "Key kept for this tab.", "key refused")


def submit(browser: Any, upload: Path, solver: str, limit_s: int) -> None:
    browser.find_element(By.ID, "file").send_keys(str(upload))
    wait(browser, lambda b: len(Select(b.find_element(By.ID, "solver")).options) > 1, "solvers")
    Select(browser.find_element(By.ID, "solver")).select_by_value(solver)
    limit = browser.find_element(By.ID, "time-limit")
    limit.clear()
    limit.send_keys(str(limit_s))
    browser.find_element(By.ID, "submit").click()


def rows(browser: Any, table: str, attribute: str) -> Counter[str]:
    """The visits a table shows, counted by a row attribute (the day or the volunteer)."""
    found = browser.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr.visit")
    return Counter(row.get_attribute(f"data-{attribute}") for row in found)


def the_only_job(service: Running, key: str) -> dict[str, Any]:
    with service.server.client(key) as client:
        page = client.get("/v1/plans").json()
        job_id = page["items"][0]["id"]
        job: dict[str, Any] = client.get(f"/v1/plans/{job_id}").json()
    return job


def downloaded(folder: Path, suffix: str) -> Path:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        done = [path for path in folder.glob(f"*{suffix}") if path.stat().st_size > 0]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"nothing ending {suffix} was downloaded to {folder}")


def test_a_roster_planned_read_switched_to_chinese_and_downloaded(
    browser: Any, service: Running, key: str, downloads: Path, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.xlsx"
    write_template(roster)
    fill_roster(roster)
    open_page(browser, service, key)
    submit(browser, roster, "greedy", 5)

    wait(
        browser,
        lambda b: b.find_element(By.ID, "job-status").get_attribute("data-status") == "done",
        "the job did not finish",
    )
    wait(browser, lambda b: b.find_element(By.ID, "results").is_displayed(), "no plan shown")
    job = the_only_job(service, key)
    plan = job["plan"]
    assert job["status"] == "done" and plan["visits"]

    # Progress: the last report, as the API has it.
    progress = job["progress"]
    assert text_of(browser, "#progress-visits") == (
        f"{progress['visits_planned']} of {progress['visits_wanted']}"
    )
    assert text_of(browser, "#progress-elapsed").endswith("of 5 s")

    # The plan by day and by volunteer: every visit (a team visit on each member's row).
    by_day = Counter(visit["day"] for visit in plan["visits"] for _ in visit["volunteers"])
    by_volunteer = Counter(v for visit in plan["visits"] for v in visit["volunteers"])
    assert rows(browser, "by-day", "day") == by_day
    browser.find_element(By.CSS_SELECTOR, "[data-tab=by-volunteer]").click()
    assert rows(browser, "by-volunteer", "volunteer") == by_volunteer
    browser.find_element(By.CSS_SELECTOR, "[data-tab=unplanned]").click()
    shown_unplanned = browser.find_elements(By.CSS_SELECTOR, "#unplanned tbody tr")
    assert len(shown_unplanned) == len(plan["unassigned"])

    # The route picture of the first day, drawn.
    browser.find_element(By.CSS_SELECTOR, "[data-tab=routes]").click()
    wait(
        browser,
        lambda b: b.execute_script(
            "const i = document.getElementById('route-picture');"
            "return !i.hidden && i.complete && i.naturalWidth > 0;"
        ),
        "no route picture",
    )

    # Chinese: the labels, and the plan's own words (day names) fetched again in Chinese.
    Select(browser.find_element(By.ID, "language")).select_by_value("zh")
    wait(browser, lambda b: text_of(b, "#results h2") == "安排方案", "no Chinese heading")
    browser.find_element(By.CSS_SELECTOR, "[data-tab=by-day]").click()
    wait(
        browser,
        lambda b: all(
            "星期" in row.text or "周" in row.text
            for row in b.find_elements(By.CSS_SELECTOR, "#by-day tbody tr.day")
        ),
        "the days are not named in Chinese",
    )
    assert browser.find_element(By.CSS_SELECTOR, "#by-day thead th:nth-child(3)").text == "服务对象"
    assert rows(browser, "by-day", "day") == by_day

    # The workbook, downloaded in Chinese and read back.
    browser.find_element(By.ID, "download-xlsx").click()
    workbook = load_workbook(downloaded(downloads, ".xlsx"))
    figures = dict(workbook["本周概况"].iter_rows(min_row=2, values_only=True))
    assert figures["已安排服务"] == str(plan["metrics"]["visits_planned"])
    assert workbook["未安排"].max_row - 1 == len(plan["unassigned"])

    screenshot = tmp_path / "page.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)


def test_a_problem_json_is_planned_and_a_bad_file_shows_its_problems(
    browser: Any, service: Running, key: str, tmp_path: Path
) -> None:
    open_page(browser, service, key)
    Select(browser.find_element(By.ID, "language")).select_by_value("en")
    bad = tmp_path / "bad.json"
    bad.write_text('{"problem": {"volunteers": "nobody"}}', encoding="utf-8")
    submit(browser, bad, "greedy", 5)
    wait(browser, lambda b: b.find_element(By.ID, "errors").is_displayed(), "no errors shown")
    listed = [item.text for item in browser.find_elements(By.CSS_SELECTOR, "#errors-list li")]
    assert any(item.startswith("problem.volunteers") for item in listed), listed

    submit(browser, EXAMPLES / "small.json", "greedy", 5)
    wait(browser, lambda b: not b.find_element(By.ID, "errors").is_displayed(), "errors stay")
    wait(
        browser,
        lambda b: b.find_element(By.ID, "job-status").get_attribute("data-status") == "done",
        "the job did not finish",
    )
    wait(browser, lambda b: b.find_element(By.ID, "results").is_displayed(), "no plan shown")
    plan = the_only_job(service, key)["plan"]
    assert sum(rows(browser, "by-day", "day").values()) == sum(
        len(visit["volunteers"]) for visit in plan["visits"]
    )

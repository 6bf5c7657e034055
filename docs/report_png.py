"""Makes docs/report.png, the README's picture of the managers' report: a month of 3,000
generated tickets (bench/report_data.py) on a throwaway SQLite file, the report written, its
page opened in headless chromium and photographed from the top.

    .venv/bin/python docs/report_png.py   # needs chromium, chromium-driver, fonts-noto-cjk
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the project: bench/dialogs.py is no package


async def write(url: str, out: Path) -> None:
    import report_data as data
    from report import backfill_stages  # bench/report.py: the month's stages, as 0012 does

    from bot.reports.cli import scope_of
    from bot.reports.output import write_report
    from bot.reports.words import Words
    from dialogs.policy import Policy
    from storage.db import make_engine

    await data.load_month(url, 3000, 13)
    await backfill_stages(url)
    args = argparse.Namespace(
        date_from=data.MONTH_START.date(),
        date_to=data.LAST_DAY,
        community="",
        department="",
        agent=None,
    )
    engine = make_engine(url)
    policy = Policy.load()
    await write_report(engine, scope_of(args, data.TZ), Words(policy), data.TZ, data.NOW, out)
    await engine.dispose()


def photograph(page: Path, png: Path, height: int) -> None:
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--hide-scrollbars"):
        options.add_argument(flag)
    options.add_argument(f"--window-size=1280,{height}")
    driver = webdriver.Chrome(
        options=options, service=webdriver.ChromeService(shutil.which("chromedriver"))
    )
    try:
        driver.get(page.as_uri())
        driver.save_screenshot(str(png))
    finally:
        driver.quit()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--height", type=int, default=2200)
    ap.add_argument("--out", default=str(ROOT / "docs" / "report.png"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "report"
        asyncio.run(write(f"sqlite+aiosqlite:///{tmp}/month.sqlite3", folder))
        photograph(folder / "index.html", Path(args.out), args.height)
    print(args.out)


if __name__ == "__main__":
    main()

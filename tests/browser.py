"""Open a built book in headless Chromium and report what a reader would see broken."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
_BROKEN_IMAGES = "return [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src);"
# myst-nb renders error outputs as tracebacks; stderr streams (library log lines) are not errors.
_ERROR_OUTPUTS = "return document.querySelectorAll('.output.traceback, .output.error').length;"
_LINKS = "return [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'));"
_WAIT_FOR_MATH = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.startup) { done(-1); return; }
MathJax.startup.promise.then(() => done(document.querySelectorAll('mjx-container').length));
"""
_TEXT = "return document.querySelector('main, article, body').innerText;"
RAW_TEX_MARKERS = ("$$", "\\frac", "\\begin{", "\\sum", "\\mathcal")


def chromium_available() -> bool:
    return bool(shutil.which("chromium") and shutil.which("chromedriver"))


def open_browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which("chromium")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=shutil.which("chromedriver")))
    driver.set_script_timeout(30)
    return driver


def inspect_page(driver, page: Path) -> dict:
    """Broken images, error outputs, math count, raw TeX left in the text, and dead local links."""
    driver.get(page.as_uri())
    math = driver.execute_async_script(_WAIT_FOR_MATH)
    text = driver.execute_script(_TEXT)
    here = Path(unquote(urlparse(driver.current_url).path)).parent  # after redirects (the book's index.html)
    dead = []
    for href in driver.execute_script(_LINKS):
        target = urlparse(href)
        if target.scheme or not target.path:
            continue  # external or same-page anchor
        if not (here / unquote(target.path)).resolve().exists():
            dead.append(href)
    return {
        "broken_images": driver.execute_script(_BROKEN_IMAGES),
        "images": driver.execute_script("return document.images.length;"),
        "error_outputs": driver.execute_script(_ERROR_OUTPUTS),
        "math": math,
        "raw_tex": [m for m in RAW_TEX_MARKERS if m in text],
        "dead_links": dead,
    }

"""Open a built book in headless Chromium and report what a reader would see broken."""

from __future__ import annotations

import os
import re
import shutil
import time
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
# Everything published, hidden cells included (a collapsed cell's path is still in the page), less the elements
# matching arguments[0] (a CSS selector; '' leaves nothing out).
_ALL_TEXT = """
const page = document.querySelector('main, article, body').cloneNode(true);
if (arguments[0]) page.querySelectorAll(arguments[0]).forEach(e => e.remove());
return page.textContent;
"""
_UNTYPESET_MATH = ("return [...document.querySelectorAll('.math')]"
                   ".filter(m => !m.querySelector('mjx-container')).length;")
# Paragraphs only: a code block may hold a pipe, a reader's text may not hold a table's source.
_PARAGRAPHS = "return [...document.querySelectorAll('main p, article p')].map(p => p.innerText);"
_STDERR_OUTPUTS = "return [...document.querySelectorAll('.output.stderr')].map(o => o.innerText.slice(0, 120));"
_OUTPUT_TEXTS = "return [...document.querySelectorAll('.cell_output')].map(o => o.innerText);"
_TABLE_CELLS = "return [...document.querySelectorAll('table td, table th')].map(c => c.innerText.trim());"
RAW_TEX_MARKERS = ("$$", "\\frac", "\\begin{", "\\sum", "\\mathcal")
# A Markdown table left as text: its delimiter row (Sphinx's smartquotes turn --- into an em dash), or a line
# of at least three pipes from edge to edge.
RAW_TABLE = re.compile(r"\|\s*:?(?:-{3,}|[—–]+):?\s*\||^\s*\|(?:[^|\n]*\|){2,}\s*$", re.MULTILINE)
WARNING_TEXT = re.compile(r"\b\w*Warning: ")
MISSING_VALUE = re.compile(r"(?<![\w<])(?:nan|NaN|NaT|<NA>)(?![\w>])|^None$")
# Where a build machine keeps things; a published page names none of them (nor the repository's own root).
MACHINE_PATHS = ("/work/", "/home/", "/tmp/", "/root/", "/Users/", "/opt/", "/usr/lib/", "site-packages",
                 str(Path(__file__).resolve().parents[1]), os.path.expanduser("~") + "/")


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


def _settle(driver, timeout: float = 10.0) -> None:
    """Wait until the page (after any meta-refresh redirect, as index.html does) has loaded and stays put."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        ready = driver.execute_script("return document.readyState === 'complete' && !!document.body;")
        here = driver.current_url
        if ready and here == last:
            return
        last = here
        time.sleep(0.3)


def inspect_page(driver, page: Path, machine_paths: tuple[str, ...] = MACHINE_PATHS, paths_unchecked: str = "") -> dict:
    """What a reader would see broken on ``page``: see :func:`problems` for the rules.

    ``paths_unchecked`` is a CSS selector of elements whose text may name a machine path (none by default).
    """
    driver.get(page.as_uri())
    _settle(driver)
    math = driver.execute_async_script(_WAIT_FOR_MATH)
    text = driver.execute_script(_TEXT)
    published = driver.execute_script(_ALL_TEXT, paths_unchecked)
    outputs = driver.execute_script(_OUTPUT_TEXTS)
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
        "untypeset_math": driver.execute_script(_UNTYPESET_MATH),
        "raw_tex": [m for m in RAW_TEX_MARKERS if m in text],
        "dead_links": dead,
        "raw_tables": [p[:120] for p in driver.execute_script(_PARAGRAPHS) if RAW_TABLE.search(p)],
        "warnings": driver.execute_script(_STDERR_OUTPUTS) + [o[:120] for o in outputs if WARNING_TEXT.search(o)],
        "machine_paths": sorted({path for path in machine_paths if path and path in published}),
        "missing_values": sorted({c for c in driver.execute_script(_TABLE_CELLS) if MISSING_VALUE.search(c)}),
    }


def problems(report: dict) -> list[str]:
    """One line per rule a page breaks (empty: the page reads as intended)."""
    rules = {
        "images failed to load": report["broken_images"],
        "shows error output": report["error_outputs"],
        "math left untypeset (MathJax did not load or failed)": report["untypeset_math"],
        "raw TeX in the text": report["raw_tex"],
        "dead local links": report["dead_links"],
        "Markdown table source shown as text": report["raw_tables"],
        "stderr or warning output shown": report["warnings"],
        "build machine's filesystem paths published": report["machine_paths"],
        "NaN or missing-value marker in a table": report["missing_values"],
    }
    return [f"{rule}: {found}" for rule, found in rules.items() if found]


def book_pages(html: Path) -> list[Path]:
    """Every page a reader can open: the book's pages and chapters, and index.html (a redirect to the front page)."""
    return sorted(html.glob("book/**/*.html")) + [html / "index.html"]


def inspect_book(html: Path, paths_unchecked: str = "") -> dict[str, dict]:
    """:func:`inspect_page` over :func:`book_pages`, keyed by page name."""
    driver = open_browser()
    try:
        return {page.stem: inspect_page(driver, page, paths_unchecked=paths_unchecked) for page in book_pages(html)}
    finally:
        driver.quit()

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
# A reader's window: a laptop's, with the theme's two sidebars beside the text column (about 770 px), and a narrow
# one, below the theme's 960 px breakpoint, where both sidebars fold away. Tables are measured at each.
WINDOW_WIDTHS = (1280, 800)
WINDOW_HEIGHT = 900
# How tables sit in the text column (article.bd-article's content box), one list of findings per rule:
# - wide_tables: a table that is not a data table (prose tables: the front page's claims, Method's deviations)
#   and is wider than the column, so part of it is behind a scrollbar; or a data table that spills out of the page.
# - hidden_row_labels: a data table (pandas' "dataframe") wider than its scrolling output whose row labels (the
#   leading header cells of a row, or its first cell) leave the view when it is scrolled to its last column.
# - default_index: a data table whose row labels are pandas' default 0, 1, 2, ... (an unnamed index).
_LAYOUT = """
const col = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
const colRight = col.getBoundingClientRect().left + col.clientWidth - parseFloat(getComputedStyle(col).paddingRight);
const name = t => [...t.querySelectorAll('th, td')].filter(c => c.offsetParent !== null).slice(0, 3)
  .map(c => c.innerText.trim()).join(' | ').slice(0, 60);
const scroller = t => {
  for (let e = t.parentElement; e && e !== col; e = e.parentElement) {
    const o = getComputedStyle(e).overflowX;
    if ((o === 'auto' || o === 'scroll') && e.scrollWidth > e.clientWidth + 1) return e;
  }
  return null;
};
const shown = row => [...row.cells].filter(c => c.offsetParent !== null);
const labels = row => {
  const cells = shown(row), first = cells.findIndex(c => c.tagName === 'TD');
  return first > 0 ? cells.slice(0, first) : cells.slice(0, 1);
};
const found = {wide_tables: [], hidden_row_labels: [], default_index: []};
for (const t of col.querySelectorAll('table')) {
  const over = Math.round(t.getBoundingClientRect().right - colRight);
  const data = t.classList.contains('dataframe');
  const box = data && over > 1 ? scroller(t) : null;
  if (over > 1 && !box) found.wide_tables.push(`${name(t)}: ${over} px wider than the text column`);
  if (box) {
    box.scrollLeft = box.scrollWidth;
    const view = box.getBoundingClientRect();
    const lost = [...t.tBodies].flatMap(b => [...b.rows]).filter(row => labels(row).some(c => {
      const r = c.getBoundingClientRect();
      return r.left < view.left - 1 || r.right > view.right + 1;
    }));
    box.scrollLeft = 0;
    if (lost.length) found.hidden_row_labels.push(`${name(t)}: ${lost.length} rows`);
  }
  const heads = [...t.querySelectorAll('tbody th.row_heading.level0')].filter(c => c.offsetParent !== null);
  const named = [...t.querySelectorAll('thead th.index_name')].some(c => c.offsetParent !== null);
  if (data && heads.length && !named && heads.every((c, i) => c.innerText.trim() === String(i)))
    found.default_index.push(name(t));
}
return found;
"""
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
    layout = {"wide_tables": [], "hidden_row_labels": [], "default_index": []}
    for width in reversed(WINDOW_WIDTHS):  # the first width last: the other checks read the page as left there
        driver.set_window_size(width, WINDOW_HEIGHT)
        driver.get(page.as_uri())
        _settle(driver)
        math = driver.execute_async_script(_WAIT_FOR_MATH)  # typeset formulas take their room before measuring
        for rule, found in driver.execute_script(_LAYOUT).items():
            layout[rule] += [f"at {width} px: {item}" for item in found]
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
        **layout,
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
        "table wider than the text column (a reader scrolls to see all of it)": report["wide_tables"],
        "wide data table scrolls its row labels out of view": report["hidden_row_labels"],
        "pandas' default row numbers shown as a table's index": report["default_index"],
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

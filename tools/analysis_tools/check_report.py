"""Open a report of tools/report.py in headless Chromium: check it, optionally screenshot it.

    python tools/analysis_tools/check_report.py REPORT.html [--screenshot PNG] [--width PX]
                                                [--chromium PATH]

Example (the screenshot in docs/, from the demo's work dir):
    python tools/analysis_tools/check_report.py work_dirs/fastgan_demo_cpu/report.html \\
        --screenshot docs/report_screenshot.png

Loads the page from disk and reports what a reader would hit: images that do not load
(``naturalWidth == 0``), videos the browser cannot decode, console errors and uncaught
exceptions, and any request that leaves the file (the page must need no network). Exits
with status 1 when there is a problem. ``--screenshot`` writes the whole page, ``--width``
pixels wide, as a PNG of ``--colours`` colours.

Needs Chromium (Debian: ``apt-get install chromium``) and the Python package
``playwright`` (``pip install playwright``; its own browser download is not used).
"""
import argparse
import os
import os.path as osp
import pathlib
import shutil
import sys
from typing import Optional

CHROMIUM_NAMES = ('chromium', 'chromium-browser', 'google-chrome')
# Headless flags that work in containers and keep Chromium off the network.
CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                  '--no-first-run', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync')
INSTALL_HINT = ('install Chromium (Debian/Ubuntu: apt-get install chromium) and Playwright '
                'for Python (pip install -r requirements/tests.txt); no browser download is '
                'needed')
MEDIA_TIMEOUT_MS = 15000
# What the page holds once it has loaded, read in the browser.
INSPECT_JS = """() => ({
  images: [...document.images].map(i => ({alt: i.alt, className: i.className,
    complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})),
  videos: [...document.querySelectorAll('video')].map(v => ({readyState: v.readyState,
    error: v.error ? v.error.code : null, width: v.videoWidth, height: v.videoHeight})),
  scripts: document.scripts.length,
  headings: [...document.querySelectorAll('h2, h3')].map(h => h.textContent),
  verdict: (document.querySelector('.verdict') || {}).textContent || null,
})"""
# Videos have their first frame (HAVE_CURRENT_DATA) or an error.
MEDIA_SETTLED_JS = """() => [...document.querySelectorAll('video')].every(
  v => v.readyState >= 2 || v.error)"""


def find_chromium(path: Optional[str] = None) -> Optional[str]:
    """``path``, ``$FASTGAN_CHROMIUM``, or the first Chromium on PATH; None if none."""
    path = path or os.environ.get('FASTGAN_CHROMIUM')
    if path:
        return path if osp.isfile(path) else None
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def browser_missing(chromium: Optional[str] = None) -> Optional[str]:
    """Why the check cannot run here (no Chromium, no Playwright), or None if it can."""
    missing = []
    if find_chromium(chromium) is None:
        missing.append('Chromium')
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append('the playwright package')
    return f'{" and ".join(missing)} not found: {INSTALL_HINT}' if missing else None


def inspect_report(report: str, screenshot: Optional[str] = None, width: int = 1000,
                   chromium: Optional[str] = None, colours: int = 0) -> dict:
    """Load ``report`` in headless Chromium and collect what went wrong.

    Args:
        report (str): The HTML file.
        screenshot (str, optional): Write the whole page there as a PNG.
        width (int): Viewport width in CSS pixels (the screenshot's width). Defaults to
            1000.
        chromium (str, optional): The browser executable; see :func:`find_chromium`.
        colours (int): Reduce the screenshot to a palette of this many colours (about a
            third of the size, for docs); 0 keeps it as captured. Defaults to 0.

    Returns:
        dict: ``images``, ``videos`` (their state in the page), ``headings``, ``verdict``
        (text of the memorisation verdict), ``scripts`` (count), ``console_errors``,
        ``page_errors``, ``external_requests`` and ``problems`` (one line each; empty
        when the page is fine).

    Raises:
        RuntimeError: If Chromium or Playwright is missing (:func:`browser_missing`).
    """
    why = browser_missing(chromium)
    if why:
        raise RuntimeError(why)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    url = pathlib.Path(report).resolve().as_uri()
    console_errors, page_errors, external = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(chromium),
                                             headless=True, args=list(CHROMIUM_FLAGS))
        try:
            page = browser.new_page(viewport=dict(width=width, height=800))
            page.on('console', lambda m: console_errors.append(m.text)
                    if m.type == 'error' else None)
            page.on('pageerror', lambda error: page_errors.append(str(error)))
            page.on('request', lambda r: external.append(r.url)
                    if not r.url.startswith(('data:', url)) else None)
            page.goto(url, wait_until='load')
            try:
                page.wait_for_function(MEDIA_SETTLED_JS, timeout=MEDIA_TIMEOUT_MS)
            except PlaywrightTimeout:
                pass  # the videos' ready state below says which did not load
            state = page.evaluate(INSPECT_JS)
            if screenshot:
                os.makedirs(osp.dirname(osp.abspath(screenshot)) or '.', exist_ok=True)
                page.screenshot(path=screenshot, full_page=True)
        finally:
            browser.close()
    if screenshot and colours:
        from PIL import Image

        with Image.open(screenshot) as image:
            palette = image.convert('RGB').quantize(colours, dither=Image.Dither.NONE)
        palette.save(screenshot, optimize=True)
    problems = [f'image {i["alt"]!r} did not load' for i in state['images']
                if not i['complete'] or i['width'] == 0]
    problems += [f'video {n} cannot be played (error {v["error"]}, ready state '
                 f'{v["readyState"]})' for n, v in enumerate(state['videos'])
                 if v['error'] or v['readyState'] < 2 or v['width'] == 0]
    problems += [f'console error: {e}' for e in console_errors]
    problems += [f'uncaught exception: {e}' for e in page_errors]
    problems += [f'request outside the page: {u}' for u in external]
    return dict(state, console_errors=console_errors, page_errors=page_errors,
                external_requests=external, problems=problems)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Check a FastGAN report in headless Chromium')
    parser.add_argument('report', help='HTML file written by tools/report.py')
    parser.add_argument('--screenshot', help='write the whole page to this PNG')
    parser.add_argument('--width', type=int, default=1000,
                        help='page width in pixels (default: 1000)')
    parser.add_argument('--colours', type=int, default=256,
                        help='colours of the screenshot (a palette PNG, about a third of the '
                        'size); 0 keeps it as captured (default: 256)')
    parser.add_argument('--chromium', help='Chromium executable (default: $FASTGAN_CHROMIUM, '
                        'else chromium on PATH)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not osp.isfile(args.report):
        sys.exit(f'error: {args.report} does not exist')
    try:
        result = inspect_report(args.report, args.screenshot, args.width, args.chromium,
                                args.colours)
    except RuntimeError as error:
        sys.exit(f'error: {error}')
    print(f'{args.report}: {len(result["images"])} images, {len(result["videos"])} videos, '
          f'{len(result["problems"])} problems')
    for problem in result['problems']:
        print(f'  {problem}')
    if args.screenshot:
        print(f'screenshot: {args.screenshot}')
    return 1 if result['problems'] else 0


if __name__ == '__main__':
    sys.exit(main())

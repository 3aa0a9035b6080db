"""The HTML review page in headless Chromium (selenium + chromedriver).

Skips, saying why, without selenium, chromium or chromedriver (Debian: ``chromium``,
``chromium-driver``). Set ``QALIGN_SCREENSHOT=path.png`` to keep the screenshot the run
takes (the README's picture comes from it).
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from qalign import formats
from qalign.alignment import Alignment, Stretch

REPO = Path(__file__).resolve().parents[2]
HELLO_WAV = REPO / "examples" / "hello.wav"


def _binary(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
        )
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.chrome.service import Service

    chromium = _binary("chromium", "chromium-browser", "google-chrome")
    driver_bin = _binary("chromedriver")
    if not chromium or not driver_bin:
        pytest.skip("chromium and chromedriver are needed (apt install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=1000,640",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_bin), options=options)
    yield driver
    driver.quit()


def hello_for_review() -> Alignment:
    """The sample's alignment with some words marked as a review would flag them."""
    a = formats.load(REPO / "examples" / "hello.json")
    units = list(a.units)
    for k in (5, 6):
        units[k] = dataclasses.replace(units[k], status="uncertain", score=0.31)
    for k in (12, 13):
        units[k] = dataclasses.replace(units[k], status="unaligned", score=0.02)
    stretch = Stretch(units[12].start, units[13].end, 12, 14, "text not heard", "unaligned")
    return dataclasses.replace(a, units=tuple(units), stretches=(stretch,))


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A page beside a copy of the sample audio, linked relatively."""
    folder = tmp_path_factory.mktemp("review")
    shutil.copy(HELLO_WAV, folder / "hello.wav")
    alignment = hello_for_review()
    target = folder / "hello.html"
    formats.save(alignment, target, audio=str(folder / "hello.wav"), audio_href="hello.wav")
    return target, alignment


def _open(driver, path: Path) -> None:
    driver.get_log("browser")
    driver.get_log("performance")
    driver.get(path.as_uri())
    driver.execute_script(
        "window.__seeks = [];"
        "var a = document.getElementById('audio');"
        "a.addEventListener('seeking', function () { window.__seeks.push(a.currentTime); });"
    )


def _current(driver) -> list[int]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('[aria-current]')).map("
        "function (e) { return e.getAttribute('aria-current') === 'true' ? +e.dataset.i : -1; });"
    )


def _seeks(driver) -> list[float]:
    """Positions the audio seeked to (its ``seeking`` events are queued, so wait for one)."""
    deadline = time.monotonic() + 2
    while True:
        seeks = driver.execute_script("return window.__seeks")
        if seeks or time.monotonic() > deadline:
            return seeks


def _under(starts: list[float], t: float) -> int:
    return max(0, bisect.bisect_right(starts, t) - 1)


def _requests(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_words_clicks_seeks_and_no_network(browser, page):
    path, alignment = page
    _open(browser, path)
    words = json.loads(formats.dumps(alignment, "json"), parse_float=str)["words"]
    shown = browser.execute_script(
        "return Array.from(document.querySelectorAll('#transcript .w')).map(function (e) {"
        " return [e.textContent, e.dataset.start, e.dataset.end, e.dataset.status]; });"
    )
    assert shown == [[w["text"], w["start"], w["end"], w["status"]] for w in words]
    assert browser.execute_script("return document.querySelectorAll('audio').length") == 1
    assert _current(browser) == [0]  # one word marked from the start

    elements = browser.find_elements("css selector", "#transcript .w")
    for k in (9, 3, 15):
        browser.execute_script("document.getElementById('audio').pause(); window.__seeks = [];")
        elements[k].click()
        seeks = _seeks(browser)
        assert seeks and seeks[0] == pytest.approx(float(words[k]["start"]), abs=1e-6)
        assert _current(browser) == [k]
    browser.execute_script("document.getElementById('audio').pause()")

    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")] == []
    urls = _requests(browser)
    # The page, its audio and Chromium's own media-control icons (data: URIs); nothing else.
    assert [u for u in urls if not u.startswith("data:")] == [
        path.as_uri(),
        (path.parent / "hello.wav").as_uri(),
    ]
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0


def test_highlight_follows_a_driven_playhead_and_keys_jump_between_flags(browser, page):
    path, alignment = page
    _open(browser, path)
    starts = [u.start for u in alignment.units]
    for t in (0.0, 0.6, 0.73, 2.0, 5.555, 8.3, 3.1):
        k = browser.execute_script(
            "var a = document.getElementById('audio'); a.currentTime = arguments[0];"
            "a.dispatchEvent(new Event('timeupdate'));"
            "return +document.querySelector('[aria-current=\"true\"]').dataset.i;",
            t,
        )
        assert k == _under(starts, t), t
        assert len(_current(browser)) == 1

    from selenium.webdriver.common.keys import Keys

    body = browser.find_element("tag name", "body")
    flag_starts = [f.start for f in formats.review_html.flagged_stretches(alignment)]
    assert len(flag_starts) == 2
    browser.execute_script("document.getElementById('audio').currentTime = 0;")
    for key, expected in (("n", flag_starts[0]), ("n", flag_starts[1]), ("p", flag_starts[0])):
        browser.execute_script("window.__seeks = [];")
        body.send_keys(key)
        assert _seeks(browser)[-1] == pytest.approx(expected, abs=1e-6)
        assert _current(browser) == [_under(starts, expected)]
    body.send_keys(Keys.SPACE)
    time.sleep(0.3)
    assert browser.execute_script("return document.getElementById('audio').paused") is False
    body.send_keys(Keys.SPACE)
    assert browser.execute_script("return document.getElementById('audio').paused") is True
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


@pytest.mark.slow
def test_real_playback_highlights_the_word_under_the_playhead(browser, page):
    path, alignment = page
    _open(browser, path)
    starts = [u.start for u in alignment.units]
    browser.execute_script(
        "var a = document.getElementById('audio'); a.currentTime = 0.5; a.play();"
    )
    seen, samples = set(), 0
    deadline = time.monotonic() + 4.0
    while time.monotonic() < deadline:
        t, marked, paused = browser.execute_script(
            "var a = document.getElementById('audio');"
            "var m = document.querySelectorAll('[aria-current=\"true\"]');"
            "return [a.currentTime, Array.from(m).map(function (e) { return +e.dataset.i; }), a.paused];"
        )
        assert not paused
        assert len(marked) == 1
        # The mark moves on every animation frame; allow one frame (and a little) of lag.
        assert marked[0] in {_under(starts, t), _under(starts, t - 0.05)}, (t, marked)
        seen.add(marked[0])
        samples += 1
        time.sleep(0.05)
    browser.execute_script("document.getElementById('audio').pause()")
    assert browser.execute_script("return document.getElementById('audio').currentTime") > 3.5
    assert len(seen) >= 5 and samples >= 20
    shot = os.environ.get("QALIGN_SCREENSHOT")
    browser.execute_script("var a = document.getElementById('audio'); a.currentTime = 2.4;")
    time.sleep(0.2)
    browser.save_screenshot(shot or str(path.with_suffix(".png")))


def test_embedded_page_plays_without_any_file_and_keeps_markup_as_text(browser, tmp_path):
    alignment = hello_for_review()
    units = list(alignment.units)
    units[2] = dataclasses.replace(units[2], text="<script>window.hacked=1</script>")
    alignment = dataclasses.replace(alignment, units=tuple(units))
    target = tmp_path / "embedded.html"
    formats.save(alignment, target, audio=str(HELLO_WAV), embed_audio=True)
    _open(browser, target)
    ready = browser.execute_script(
        "var a = document.getElementById('audio'); return [a.readyState, a.duration];"
    )
    deadline = time.monotonic() + 5
    while ready[0] < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
        ready = browser.execute_script(
            "var a = document.getElementById('audio'); return [a.readyState, a.duration];"
        )
    assert ready[1] == pytest.approx(alignment.duration, abs=0.01)
    assert browser.execute_script("return window.hacked === undefined")
    assert browser.find_elements("css selector", "#transcript .w")[2].text == units[2].text
    browser.find_elements("css selector", "#transcript .w")[7].click()
    assert _current(browser) == [7]
    browser.execute_script("document.getElementById('audio').pause()")
    assert [u for u in _requests(browser) if not u.startswith("data:")] == [target.as_uri()]
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_page_without_audio_still_reads_and_marks_words(browser, tmp_path):
    target = tmp_path / "no-audio.html"
    formats.save(hello_for_review(), target)  # as `qalign convert x.json x.html` writes it
    _open(browser, target)
    browser.find_elements("css selector", "#transcript .w")[4].click()
    assert _current(browser) == [4]
    assert [u for u in _requests(browser) if not u.startswith("data:")] == [target.as_uri()]
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []

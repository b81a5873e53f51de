"""The Playground page in a real browser: Debian's chromium driven by Playwright against `skillstack serve` on loopback.

Real parts: uvicorn on 127.0.0.1 behind a key, the page from the package, the base model and a bundled
skill streaming side by side, a fine-tuning job trained by the worker (10 short examples, 1 epoch,
2 steps: the test proves the parts fit, not that the model learns), and a chat with the new skill.
Playwright's own browser download cannot work here: `make setup` installs Debian's chromium with apt.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from skillstack.settings import load_settings
from skillstack.skills.server import create_app
from skillstack.skills.server.auth import KeyRing

from server_fixtures import KEY, running

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"]
EXAMPLES = [{"messages": [{"role": "user", "content": f"Where is parcel {n}?"},
                          {"role": "assistant", "content": "It ships today. Best, the Acme team"}]} for n in range(10)]
REPLY_MS = 180_000
TRAINING_MS = 600_000


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory):
    """The server on a fresh home (the bundled skills only), keyed with KEY."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # the training child inherits it: one BLAS thread on a shared CPU
    with running(create_app(load_settings(tmp_path_factory.mktemp("playground-home")), keys=KeyRing.of([KEY]))) as base:
        yield base


@pytest.fixture
def browser_page():
    """A chromium page (Debian's browser, headless); skipped when chromium is not installed (`make setup` installs it)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium is not installed: `make setup` installs it with apt")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


def _send(page, text: str) -> None:
    """Send text from the prompt box and wait until every pane has answered (Send is disabled until then)."""
    from playwright.sync_api import expect

    page.fill("#prompt", text)
    page.click("#send")
    expect(page.locator("#send")).to_be_enabled(timeout=REPLY_MS)


def test_the_graph_answers_through_the_sdk_with_its_decision_beside_the_answer(url: str) -> None:
    import openai

    client = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)
    reply = client.chat.completions.create(model="skillstack-graph", max_tokens=8, messages=[
        {"role": "user", "content": "Write a reply to a customer whose parcel is late."}])
    decision = reply.model_extra["skillstack"]
    assert decision["route"] == "skill" and decision["skill"] == "brand-voice" and decision["reason"]
    assert reply.choices[0].message.content and reply.model == "skillstack-graph"
    chunks = list(client.chat.completions.create(model="skillstack-graph", max_tokens=8, stream=True, messages=[
        {"role": "user", "content": "Write a reply to a customer whose parcel is late."}]))
    assert sum(bool(c.choices and c.choices[0].delta.content) for c in chunks) > 1  # token by token, not whole
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["skillstack"]["skill"] == "brand-voice"
    with pytest.raises(openai.BadRequestError) as caught:  # every skill in the graph samples its own way
        client.chat.completions.create(model="skillstack-graph", temperature=0.5,
                                       messages=[{"role": "user", "content": "Hello"}])
    assert caught.value.body["param"] == "temperature"


def test_the_playground_compares_two_models_trains_a_skill_and_chats_with_it(url: str, browser_page,
                                                                             tmp_path: Path) -> None:
    from playwright.sync_api import expect

    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in EXAMPLES), encoding="utf-8")
    page = browser_page
    page.goto(url.removesuffix("/v1") + "/")
    assert page.url.endswith("/playground")
    page.fill("#api-key", KEY)
    page.click("#connect")
    expect(page.locator("#connection")).to_contain_text("connected")

    # Compare mode: the same prompt through the base model and a skill, side by side.
    page.check("#compare")
    page.select_option("#model", "base")
    page.select_option("#compare-model", "brand-voice")
    page.fill("#temperature", "0")
    page.fill("#max-tokens", "8")
    page.fill("#stop", "Customer:")
    page.locator("#pane-0 .system").fill("You are a courteous support agent for Acme.")
    _send(page, "My parcel is late.")
    for pane in ("#pane-0", "#pane-1"):
        expect(page.locator(pane)).to_have_attribute("data-state", "done")
        assert page.locator(f"{pane} .message.assistant").inner_text().strip()
    page.screenshot(path=str(tmp_path / "playground-compare.png"), full_page=True)
    assert page.locator("#pane-1").get_attribute("data-model") == "brand-voice"

    # The graph in the first pane: its answer comes with the route it took.
    page.select_option("#model", "skillstack-graph")
    expect(page.locator("#graph-hint")).to_be_visible()
    _send(page, "Write a reply to a customer whose parcel is late.")
    expect(page.locator("#pane-0")).to_have_attribute("data-state", "done")
    expect(page.locator("#pane-0 .decision .route")).to_contain_text("Route: skill/brand-voice")

    # A job from a tiny file: uploaded, trained, its loss curves drawn, its skill opened in the chat pane.
    page.click("#tab-jobs")
    page.set_input_files("#training-file", str(data))
    page.set_input_files("#validation-file", str(data))
    page.fill("#suffix", "tiny")
    page.fill("#n-epochs", "1")
    page.fill("#batch-size", "5")
    page.click("#create-job")
    expect(page.locator("#job-status")).to_have_text("succeeded", timeout=TRAINING_MS)
    chart = page.locator("#loss-chart")
    assert chart.get_attribute("data-points") == "2"
    assert chart.locator("polyline.train").count() == 1 and chart.locator("polyline.valid").count() == 1
    assert page.locator("#job-events li").first.inner_text().endswith("The job has successfully completed")
    page.screenshot(path=str(tmp_path / "playground-job.png"), full_page=True)
    fine_tuned = page.locator("#job-model").inner_text()
    assert fine_tuned.startswith("ft:") and fine_tuned.endswith(page.locator("#job-title").inner_text())

    page.click("#open-skill")
    expect(page.locator("#model")).to_have_value(fine_tuned)
    expect(page.locator("#pane-1")).to_have_count(0)
    _send(page, "Where is parcel 3? <img src=x onerror=document.title='pwned'>")
    expect(page.locator("#pane-0")).to_have_attribute("data-state", "done")
    assert page.locator("#pane-0 .message.assistant").inner_text().strip()
    # Text stays text: a message (or a reply) is never parsed as HTML.
    assert "<img src=x" in page.locator("#pane-0 .message.user").inner_text()
    assert page.locator("#pane-0 img").count() == 0 and page.title() == "skillstack Playground"
    assert page.locator("#pane-0").get_attribute("data-model") == fine_tuned

    page.screenshot(path=str(tmp_path / "playground.png"), full_page=True)
    assert all((tmp_path / f"{name}.png").stat().st_size > 0 for name in ("playground-compare", "playground-job",
                                                                             "playground"))

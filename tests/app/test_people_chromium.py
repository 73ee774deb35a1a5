"""Who may act, as people meet it in a real Chromium: the demo night at 23:29, the daemon, `warroom board`.

An unsigned browser finds no enabled action; each person's page carries their sign-in link, which signs
them in (an HttpOnly cookie; the token leaves the address); the general manager acknowledges his red
alert; the operations lead cannot silence when the rights say so, and the page says who may; forged,
expired and other people's links get a plain page; a trusted wall marks a step done "at the wall";
sign-out is one click; and the decision log and the report name the person and where.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from alerts.signin import make_signin
from tests.app.board_kit import chromium, close_chromium, night_config, start_board, stop_group, wait_board, wait_dom
from tests.daemon_kit import ROOT, api_base, start_collect, start_demo, stop, wait_for, write_config
from tests.realparts import free_port

pytestmark = [pytest.mark.slow, pytest.mark.needs_chromium]

ARTIFACTS = ROOT / "tests" / "artifacts"
TOKEN, SECRET = "people-chromium-board-token", "people-chromium-ack-secret"
# Streamlit's own controls (sidebar, menu, table toolbars) are not actions on the night.
ACTIONS_JS = """return [...document.querySelectorAll('button[data-testid^="stBaseButton-"]')]
  .filter(b => !/elementToolbar|header/.test(b.dataset.testid) && !b.disabled).map(b => b.innerText.trim())"""


@dataclass
class Night:
    api: str
    board: str
    db: Path
    raw: dict[str, Any]
    demo: Any
    logs: list[Path]
    daemon: Any
    links: list[str]

    def link(self, role: str) -> str:
        """The sign-in link in the newest page `role` received (the demo's inbox: what the phone shows)."""
        def found() -> str | None:
            with self.demo.inbox_lock:
                pages = [m for m in self.demo.inbox if m.get("to") == role]
            for page in reversed(pages):
                hit = re.search(r"(http://\S+[?&]signin=\S+)", str(page.get("message") or page.get("body") or ""))
                if hit:
                    return hit.group(1)
            return None
        link = wait_for(found, 60, f"a page to {role} with a sign-in link")
        self.links.append(link)
        return link

    def alerts(self, state: str = "all") -> list[dict[str, Any]]:
        return requests.get(f"{self.api}/api/v1/alerts", params={"state": state}, timeout=5).json()["alerts"]


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    chrome_probe = chromium()  # skips locally / fails under WARROOM_REQUIRE_REAL_PARTS when Chromium is missing
    close_chromium(chrome_probe)
    tmp = tmp_path_factory.mktemp("people")
    demo = start_demo("23:29:00")
    port = free_port()
    raw = night_config(demo.url, tmp / "night.duckdb")
    raw["alerts"]["board_url"] = f"http://127.0.0.1:{port}/phone?role={{role}}"
    raw["alerts"]["public_url"] = api_base(raw)
    raw["rights"] = {"silence": "general_manager"}  # the operations lead may not silence tonight
    raw["walls"]["tech"]["actions"] = True
    raw["walls"]["business"]["actions"] = False
    config = write_config(raw, tmp / "config.yaml")
    env = {"WARROOM_TOKEN": TOKEN, "WARROOM_ACK_SECRET": SECRET}
    logs = [tmp / "collect.log", tmp / "board.log"]
    daemon = start_collect(config, logs[0], env)
    board = start_board(config, api_base(raw), port, logs[1], env)
    n = Night(api_base(raw), f"http://127.0.0.1:{port}", tmp / "night.duckdb", raw, demo, logs, daemon, [])
    try:
        wait_for(lambda: any(a["level"] == "red" for a in n.alerts("active")), 60, "a red alert", daemon, logs[0])
        wait_board(port, board, logs[1])
        yield n
    finally:
        stop_group(board)
        stop(daemon)
        demo.shutdown()


@pytest.fixture
def browser():
    chrome = chromium(1280, 1000)
    yield chrome
    close_chromium(chrome)


def actions_after(chrome: Any, url: str, ready_js: str, what: str) -> list[str]:
    """The enabled actions once `ready_js` holds: something drawn after (or beside) the page's controls."""
    chrome.get(url)
    wait_dom(chrome, ready_js, 45, what)
    return chrome.execute_script(ACTIONS_JS)


def test_an_unsigned_browser_finds_no_enabled_action_and_links_open_where_they_point(night, browser):
    # First page this board process serves: a forwarded /alerts link opens that page, no "Page not found" modal.
    found = actions_after(browser, f"{night.board}/alerts",
                          "document.querySelectorAll('[data-testid=stBaseButton-primary]').length > 0 && "
                          "document.querySelectorAll('[data-testid=stBaseButton-secondaryFormSubmit]').length >= 2",
                          "the alerts page's cards and forms")
    assert "Page not found" not in browser.find_element("tag name", "body").text
    assert found == [], found
    assert browser.find_elements("css selector", "[data-testid=stBaseButton-primary][disabled]"), \
        browser.execute_script("return [...document.querySelectorAll('button')].map(b => [b.dataset.testid, b.disabled,"
                               " b.innerText])")
    assert "登录链接" in browser.find_element("tag name", "body").text  # says how to sign in
    found = actions_after(browser, f"{night.board}/phone?role=general_manager",
                          "document.querySelector('[data-decision]') && "
                          "document.querySelector('[data-phone-actions=none]')",
                          "the phone view")
    assert found == [] and "Page not found" not in browser.find_element("tag name", "body").text
    found = actions_after(browser, f"{night.board}/?kiosk=1&wall=business",
                          "document.querySelector('[data-metric]') && "
                          "document.querySelector('[data-sheet-actions=none]')",
                          "the business wall and its run sheet")
    assert found == [] and not browser.find_elements("css selector", "[data-testid^=stBaseButton-secondary]")
    found = actions_after(browser, f"{night.board}/", "document.querySelector('[data-sheet-actions=off]')",
                          "the wall's run sheet")
    assert browser.find_elements("css selector", "[data-testid=stBaseButton-secondary][disabled]"), "shown, disabled"
    assert found == [], found


def test_the_general_managers_link_signs_him_in_and_he_acknowledges_his_red_alert(night, browser):
    link = night.link("general_manager")
    token = link.split("signin=", 1)[1]
    browser.get(link)
    wait_dom(browser, "document.querySelector('[data-person-name]')", 45, "the signed-in name in the header")
    assert "signin" not in browser.current_url and browser.current_url.endswith("/phone?role=general_manager")
    assert token not in browser.page_source
    cookie = browser.get_cookie("warroom_session")
    assert cookie and cookie["httpOnly"] and cookie["value"] not in browser.page_source
    assert "王强 · 总经理" in browser.find_element("css selector", "[data-person-name]").text
    red = next(a for a in night.alerts("active") if a["level"] == "red" and not a["acked_by"])
    button = wait_dom(browser, "[...document.querySelectorAll('button')].find(b => b.innerText.includes("
                               f"'#{red['id']} '))", 30, f"the acknowledge button of alert #{red['id']}")
    button.click()
    # the alert's row and its trail row are two writes: wait for both, not the first one seen
    acked = wait_for(lambda: next((a for a in night.alerts() if a["id"] == red["id"] and a["acked_by"]
                                   and any(e["event"] == "acked" for e in a["events"])), None), 20,
                     "the acknowledgement and its trail row")
    assert acked["acked_by"] == "general_manager"
    event = next(e for e in acked["events"] if e["event"] == "acked")
    assert (event["person"], event["channel"]) == ("王强 · 总经理", "board")
    # He writes the decision on the alerts page, as himself.
    browser.get(f"{night.board}/alerts")
    wait_dom(browser, "document.querySelector('[data-person-name]') && document.querySelector('textarea')", 45,
             "the decision form")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "alerts-signed-in.png"))
    browser.find_element("css selector", "textarea").send_keys("切换备用服务器, 页面降级")
    next(b for b in browser.find_elements("css selector", "[data-testid=stBaseButton-secondaryFormSubmit]")
         if b.text == "记录决策").click()
    note = wait_for(lambda: next((n for n in requests.get(f"{night.api}/api/v1/annotations", params={"from": "-1h"},
                                                          timeout=5).json()["annotations"]
                                  if n["text"] == "切换备用服务器, 页面降级"), None), 20, "the decision in the log")
    assert (note["author"], note["role"], note["via"]) == ("王强 · 总经理", "general_manager", "board")
    # Sign-out is one click: the header goes, the session is ended at the daemon.
    session = cookie["value"]
    browser.find_element("css selector", "[data-sign-out]").click()
    wait_for(lambda: browser.get_cookie("warroom_session") is None, 20, "the cookie to go")
    wait_dom(browser, "document.querySelector('[data-alert]') && !document.querySelector('[data-person-name]')", 45,
             "the page, signed out")
    assert requests.get(f"{night.api}/api/v1/signin", headers={"X-Warroom-Session": session}, timeout=5) \
        .status_code == 401
    browser.save_screenshot(str(ARTIFACTS / "alerts-signed-out.png"))


def test_the_operations_lead_cannot_silence_when_the_rights_say_so_and_the_page_says_who_may(night, browser):
    browser.get(night.link("ops_lead"))
    wait_dom(browser, "document.querySelector('[data-person-name]')", 45, "the operations lead signed in")
    browser.get(f"{night.board}/alerts")
    wait_dom(browser, "[...document.querySelectorAll('[role=tab]')].length >= 2", 45, "the tabs")
    next(t for t in browser.find_elements("css selector", "[role=tab]") if t.text == "静默").click()
    text = wait_dom(browser, "[...document.querySelectorAll('[data-testid=stAlert]')].map(e => e.innerText)"
                             ".find(t => t.includes('静默告警由'))", 20, "the note saying who may silence")
    assert "王强 · 总经理" in text and "李娜 · 运营负责人" in text, text
    silence = next(b for b in browser.find_elements("css selector", "[data-testid=stBaseButton-secondaryFormSubmit]")
                   if b.text == "静默")
    assert not silence.is_enabled()
    # Her acknowledge buttons are live (the daemon applies the ack rule); the silence stays refused at the API too.
    cookie = browser.get_cookie("warroom_session")["value"]
    refused = requests.post(f"{night.api}/api/v1/silences", json={"metric": "pickup_rate", "reason": "x"}, timeout=5,
                            headers={"Authorization": f"Bearer {TOKEN}", "X-Warroom-Session": cookie})
    assert refused.status_code == 403 and "王强 · 总经理 (general_manager)" in refused.json()["error"]["message"]


def test_forged_expired_and_other_peoples_links_get_a_plain_page(night, browser):
    good = night.link("general_manager")
    forged = good[:-3] + ("xyz" if not good.endswith("xyz") else "abc")
    expired = make_signin(SECRET, "tech_lead", "张伟 · 技术负责人", int(time.time()) - 60)
    other = make_signin(SECRET, "general_manager", "张伟 · 技术负责人", int(time.time()) + 600)  # not his role
    base = f"{night.board}/phone?role=general_manager&signin="
    before = requests.get(f"{night.api}/api/v1/health", timeout=5).json()["refusals"]["signin_link"]
    for url, why in ((forged, "签名不符"), (base + expired, "已过期"), (base + other, "已不再担任")):
        browser.get(url)
        text = wait_dom(browser, "document.querySelector('[data-signin-refused]')?.innerText", 20, "the refusal page")
        assert why in text and "此登录链接无效" in browser.title, (url, text)
        assert browser.get_cookie("warroom_session") is None
    assert requests.get(f"{night.api}/api/v1/health", timeout=5).json()["refusals"]["signin_link"] == before + 3
    answer = requests.get(forged, timeout=10, allow_redirects=False)
    assert answer.status_code == 403 and answer.headers["cache-control"] == "no-store"


def test_a_trusted_wall_marks_a_step_done_at_the_wall(night, browser):
    browser.get(f"{night.board}/?kiosk=1")
    button = wait_dom(browser, "[...document.querySelectorAll('button')].find(b => b.innerText.includes('标记完成')"
                               " && !b.disabled)", 45, "the wall's mark-done button")
    button.click()
    wait_dom(browser, "[...document.querySelectorAll('button')].find(b => b.innerText.includes('确认完成'))", 20,
             "the confirmation").click()
    step = wait_for(lambda: next((s for s in requests.get(f"{night.api}/api/v1/runsheet", timeout=5).json()["steps"]
                                  if s["done"]), None), 20, "a step done")
    assert (step["done_by"], step["done_by_name"], step["done_via"]) == (None, None, "wall:tech")
    wait_dom(browser, "document.body.innerText.includes('在大屏上完成')", 20, "the row saying done at the wall")
    note = [n for n in requests.get(f"{night.api}/api/v1/annotations", params={"from": "-1h"}, timeout=5).json()
            ["annotations"] if n["kind"] == "runsheet"][-1]
    assert note["via"] == "wall:tech" and note["role"] is None and note["author"].startswith("大屏")


def test_the_report_names_the_person_and_no_token_is_logged(night):
    from warroom.archive.report.make import make_report

    assert stop(night.daemon) == 0
    out = make_report(night.db, night.db.with_name("report.html"))
    report = out.read_text(encoding="utf-8")
    assert "王强 · 总经理 在看板上" in report  # who acknowledged, and where
    assert "切换备用服务器, 页面降级" in report and "王强 · 总经理 · 在看板上" in report  # the decision log
    logged = "".join(log.read_text(errors="replace") for log in night.logs)
    for link in night.links:
        assert link.split("signin=", 1)[1] not in logged
    assert night.links and "signed in as general_manager" in logged

"""Urgent channels reach the decider, not only their chat: a phone call, Pushover emergency, ntfy max.

Local receivers stand in for the phone providers: Apprise's json:// and form:// posting to
tests/harness/receiver.py, and Apprise's own Twilio plugin pointed at a local receiver to show the call.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import apprise.plugins.twilio as twilio_plugin
import pytest

from alerts.engine import AlertEngine
from alerts.notifiers.apprise_channel import is_voice_call
from tests.alerts.conftest import Clock, config, push
from tests.harness.receiver import Receiver
from warroom.config.load import ConfigError, parse_config
from warroom.store.database import Store

GIVE_UP_S = 30.0


def wait(probe, timeout=GIVE_UP_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (found := probe()):
            return found
        time.sleep(0.02)
    return None


def form(body):
    """A form:// post as the receiver kept it (it parses JSON only)."""
    return {k: v[0] for k, v in parse_qs(body.get("unparsed", "")).items()}


def raw_config(receivers, locale="en", **alerts):
    raw = config(repeat_every="1m", **alerts).config.model_dump(by_alias=True, exclude_none=True)
    raw["campaign"]["locale"] = locale
    for role in raw["people"]:
        raw["people"][role]["channels"] = [receivers.url(role)]
    raw["people"]["general_manager"]["urgent"] = [receivers.url("gm_call", scheme="form")]
    raw["people"]["ops_lead"]["urgent"] = [receivers.url("ops_call", scheme="form")]
    raw["levels"]["red"]["urgent"] = [receivers.url("siren")]  # the war room's own siren topic, for any red
    return raw


@pytest.fixture
def receivers():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def engine_on(tmp_path, monkeypatch):
    monkeypatch.setenv("WARROOM_ACK_SECRET", "s3cret-for-tests")
    made = []

    def make(raw):
        store = Store(tmp_path / "urgent.duckdb")
        engine = AlertEngine(parse_config(raw, env={}), store, Clock(), tick=3600)
        engine.start({})
        made.append((engine, store))
        return engine, store

    yield make
    for engine, store in made:
        engine.stop()
        store.close()


def paths(receivers):
    return [m.path for m in receivers.snapshot()]


def settled(engine, receivers, n):
    """Wait for `n` receipts in all and every send recorded."""
    assert wait(lambda: len(receivers.snapshot()) >= n and engine.pager.in_flight() == 0 and
                engine.pager.queued() == 0), f"expected {n} receipts, got {paths(receivers)}"
    assert len(receivers.snapshot()) == n, paths(receivers)


def test_each_level_rings_the_right_urgent_channels_and_a_red_repeat_rings_again(engine_on, receivers):
    engine, store = engine_on(raw_config(receivers))
    clock = engine.clock
    push(engine, clock, "cpu", 85)  # yellow: the tech lead's chat, nobody is rung
    settled(engine, receivers, 1)
    assert paths(receivers) == ["tech_lead"]
    push(engine, clock, "cpu", 92)  # orange: the operations lead owns orange, so his urgent channel rings
    settled(engine, receivers, 4)
    assert sorted(paths(receivers)[1:]) == ["ops_call", "ops_lead", "tech_lead"]  # + tech lead told, chat only
    push(engine, clock, "cpu", 97)  # red: the GM's chat, his phone and the siren; the ops lead told in his chat
    settled(engine, receivers, 8)
    assert sorted(paths(receivers)[4:]) == ["general_manager", "gm_call", "ops_lead", "siren"]
    call = form(receivers.to("gm_call")[0])
    assert call["title"].startswith("[RISEN TO RED] CPU 97.0%")
    assert call["message"].startswith("Risen to red. CPU 97.0%. Press the link in the message to acknowledge.\n"
                                      "Acknowledge (I am on it): http://")
    assert len(call["message"]) < 300  # the few words a call says, not the whole page
    clock.advance(60)
    engine.tick(clock.now)  # nobody acknowledged: keep calling until someone answers
    settled(engine, receivers, 11)
    assert sorted(paths(receivers)[8:]) == ["general_manager", "gm_call", "siren"]
    assert form(receivers.to("gm_call")[1])["message"].startswith("Red alert, still not acknowledged. CPU 97.0%.")
    engine.ack(1, "general_manager", "link")  # taken: the others are told in their chats, nobody is rung
    settled(engine, receivers, 13)
    assert sorted(paths(receivers)[11:]) == ["ops_lead", "tech_lead"]
    clock.advance(60)
    engine.tick(clock.now)  # acknowledged: no more calls
    push(engine, clock, "cpu", 10)
    clock.advance(31)
    engine.tick(clock.now)  # resolved: told in the chats only
    settled(engine, receivers, 16)
    assert sorted(paths(receivers)[13:]) == ["general_manager", "ops_lead", "tech_lead"]
    assert [p for p in paths(receivers) if p.endswith("_call")] == ["ops_call", "gm_call", "gm_call"]
    kinds = store.execute("SELECT detail, count(*) FROM alert_events WHERE event = 'notify' AND channel LIKE "
                          "'form://%' GROUP BY detail ORDER BY detail").fetchall()
    assert kinds == [("raised", 2), ("repeat", 1)]


def test_a_call_speaks_the_campaigns_language(engine_on, receivers):
    engine, _ = engine_on(raw_config(receivers, locale="zh-CN"))
    push(engine, engine.clock, "success", 70)  # red at once
    settled(engine, receivers, 3)
    call = form(receivers.to("gm_call")[0])
    assert call["message"].startswith("红色预警。Orders OK 70.0%。请按消息中的链接确认。\n确认 (我来处理): http://")


def test_a_stand_in_is_rung_on_their_own_urgent_channel(engine_on, receivers):
    raw = raw_config(receivers)
    raw["people"]["deputy_gm"] = {"name": "Chen", "phone": "5", "channels": [receivers.url("deputy")],
                                  "urgent": [receivers.url("deputy_call", scheme="form")]}
    engine, _ = engine_on(raw)
    engine.roster.stand_in("general_manager", engine.clock.now, "Li (ops)", person="deputy_gm")
    push(engine, engine.clock, "cpu", 97)
    settled(engine, receivers, 3)
    assert sorted(paths(receivers)) == ["deputy", "deputy_call", "siren"]


def test_a_role_that_decides_only_through_a_metrics_override_is_rung_at_its_own_level(engine_on, receivers):
    raw = raw_config(receivers)
    raw["people"]["dba"]["urgent"] = [receivers.url("dba_call", scheme="form")]  # decides db at yellow, no level
    engine, _ = engine_on(raw)
    push(engine, engine.clock, "db", 72)  # yellow for db: the DBA decides, so the DBA's phone rings
    settled(engine, receivers, 2)
    assert sorted(paths(receivers)) == ["dba", "dba_call"]


def test_urgent_urls_are_checked_with_apprise_at_validate(receivers):
    raw = raw_config(receivers)
    raw["people"]["general_manager"]["urgent"] = ["twilio://not-a-sid@+1555/+8613800000000?method=call"]
    raw["levels"]["orange"]["urgent"] = ["nosuchscheme://x"]
    raw["people"]["ops_lead"]["shifts"] = [{"from": "00:00", "to": "00:00", "name": "Li", "urgent": ["bad://"]}]
    with pytest.raises(ConfigError) as err:
        parse_config(raw, env={})
    text = str(err.value)
    assert "people.general_manager.urgent[0]: Apprise cannot use a 'twilio://' URL" in text
    assert "levels.orange.urgent[0]: Apprise cannot use a 'nosuchscheme://' URL" in text
    assert "people.ops_lead.shifts[0].urgent[0]: Apprise cannot use a 'bad://' URL" in text
    assert "not-a-sid" not in text  # a URL is named by its scheme only: it carries secrets


def test_a_phone_call_is_placed_with_the_short_text_as_twiml(monkeypatch, receivers, engine_on):
    # Apprise's own Twilio plugin, its API address pointed at a local receiver: the request Twilio would get.
    monkeypatch.setattr(twilio_plugin.NotifyTwilio, "notify_call_url",
                        f"http://127.0.0.1:{receivers.port}/twilio/{{sid}}/Calls.json")
    call_url = ("twilio://AC0123456789abcdef0123456789abcdef:authtok0123456789abcdef01234567@+15551234567/"
                "+8613800000000?method=call")
    assert is_voice_call(call_url) and not is_voice_call(call_url.replace("method=call", "method=sms"))
    raw = raw_config(receivers, locale="zh-CN")
    raw["people"]["general_manager"]["urgent"] = [call_url]
    engine, store = engine_on(raw)
    push(engine, engine.clock, "cpu", 97)
    path = "twilio/AC0123456789abcdef0123456789abcdef/Calls.json"
    assert wait(lambda: receivers.to(path))
    placed = form(receivers.to(path)[0])
    assert placed["To"] == "+8613800000000" and placed["From"] == "+15551234567"
    assert placed["Twiml"] == ('<Response><Say language="zh-CN" loop="2">红色预警。CPU 97.0%。请按消息中的链接确认。'
                               '</Say></Response>')
    assert wait(lambda: store.execute("SELECT count(*) FROM alert_events WHERE event = 'delivered' "
                                      "AND channel LIKE 'twilio://%'").fetchall()[0][0] == 1)

"""The ack link's page once its alert is resolved: no button, and every word in the campaign's language."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.alerts.conftest import config, push
from warroom.api.app import create_app
from warroom.api.read_model import BoardReader
from warroom.store.writer import LatestValues
from warroom.values import CampaignWindow


def link_token(page_text: str) -> str:
    return next(line.rsplit("token=", 1)[1] for line in page_text.splitlines() if "/ack?token=" in line)


def test_a_resolved_alerts_link_offers_no_button_and_answers_in_the_nights_language(rig):
    make, clock, phone, store = rig
    loaded = config()
    loaded.config.campaign.locale = "zh-CN"
    engine = make(loaded)
    reader = BoardReader(engine.cfg, store, CampaignWindow("n", None, clock.now + timedelta(hours=1)), LatestValues(),
                         engine.views)
    client = TestClient(create_app(reader, clock, engine=engine, deliver=engine.observe))
    push(engine, clock, "cpu", 85)
    phone.got(n=1)
    token = link_token(phone.pages[0][3].body)
    push(engine, clock, "cpu", 50)
    clock.advance(31)
    engine.tick(clock.now)  # green for resolve_after: resolved
    phone.got(n=2)
    page = client.get("/api/v1/alerts/1/ack", params={"token": token})
    assert page.status_code == 200 and "<button" not in page.text and "<form" not in page.text
    assert "已于" in page.text and "此告警已恢复, 无需确认" in page.text
    pressed = client.post("/api/v1/alerts/1/ack/form", data={"token": token})  # an old tab's button
    assert pressed.status_code == 409 and "此告警已关闭, 无需确认" in pressed.text
    assert "not open" not in pressed.text and "resolved" not in pressed.text
    expired = client.post("/api/v1/alerts/1/ack/form", data={"token": token[:-2] + "xx"})
    assert expired.status_code == 403 and "签名不符" in expired.text and "signature" not in expired.text

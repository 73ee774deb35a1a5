"""Channel URLs carry bot tokens, keys and passwords: only a scheme and a non-secret label may be shown."""

from __future__ import annotations

import pytest

from alerts.notifiers import deliver
from alerts.notifiers.page import Delivery, Page
from warroom.config.channels import scrub, shown

# Every scheme the README recommends, in the shapes Apprise documents; the secret parts of each.
CHANNELS = [
    ("dingtalk://Zx9secretTOKENdingtalk/", ["Zx9secretTOKENdingtalk"]),
    ("dingtalk://SEC0secretSign@Zx9secretTOKEN2/13800000000", ["SEC0secretSign", "Zx9secretTOKEN2"]),
    ("wecombot://wecomKEY0secret0abc", ["wecomKEY0secret0abc"]),
    ("feishu://feishuTOKEN0secret/", ["feishuTOKEN0secret"]),
    ("feishu://feishuTOKEN1secret/feishuSIGN1secret", ["feishuTOKEN1secret", "feishuSIGN1secret"]),
    ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#war-room", ["T1JJ3T3L2", "TIiajkdnlazkcOXrIdevi7FQ"]),
    ("slack://xoxb-1234-5678-botTOKENsecret/#war-room", ["xoxb-1234-5678-botTOKENsecret"]),
    ("telegram://123456789:AAtelegramBOTsecret/-1001234", ["AAtelegramBOTsecret", "123456789"]),
    ("tgram://bot987654321:AAtgramBOTsecret/-1001234", ["AAtgramBOTsecret"]),
    ("mailto://zhang:MailPa55secret@example.com", ["MailPa55secret"]),
    ("mailtos://zhang:MailPa56secret@smtp.example.com:465?to=gm@example.com", ["MailPa56secret"]),
    ("json://127.0.0.1:9/inbox?+X-Fwd-Token=hdrSECRET0json", ["hdrSECRET0json"]),
    ("jsons://hook.example.com/path/pathSECRET0jsons?+X-Api-Key=hdrSECRET1jsons", ["hdrSECRET1jsons",
                                                                                     "pathSECRET0jsons"]),
    ("json://webUSER:webPASSsecret@127.0.0.1:9/x", ["webPASSsecret", "webUSER"]),
    ("alertmanager://amUSER:amPASSsecret@127.0.0.1:9093", ["amPASSsecret"]),
    ("alertmanagers://127.0.0.1:9093/amPATHsecret", ["amPATHsecret"]),
    # the urgent channels the README shows: a phone call, Pushover emergency, an ntfy siren topic
    ("twilio://ACsecretSID0123:twTOKENsecret0@+15551234567/+8613800000003?method=call",
     ["ACsecretSID0123", "twTOKENsecret0"]),
    ("pover://poUSERsecret0@poTOKENsecret0/?priority=emergency&interval=30&expire=3600",
     ["poUSERsecret0", "poTOKENsecret0"]),
    ("ntfys://ntfy.example.com/siren0secretTopic?priority=max", ["siren0secretTopic"]),
]


@pytest.mark.parametrize(("url", "secrets"), CHANNELS, ids=[u.split("://")[0] for u, _ in CHANNELS])
def test_a_shown_channel_holds_no_secret(url, secrets):
    label = shown(url)
    assert label.startswith(url.split("://")[0] + "://")
    for secret in secrets:
        assert secret not in label, label
        assert secret not in scrub(url, f"POST failed for {url}: 401 {secret}")
    assert shown(url) == label  # stable: the alert log matches pending pages by it


def test_two_channels_on_one_host_are_told_apart():
    assert shown("json://127.0.0.1:9/tech_lead") != shown("json://127.0.0.1:9/ops_lead")
    assert shown("json://127.0.0.1:9/tech_lead").startswith("json://127.0.0.1:9/")


def test_malformed_urls_show_nothing_of_themselves():
    for url in ("no-scheme-secretvalue", "://secretvalue", "DING TALK://secretvalue", "json://sec ret@@host/x"):
        assert "secretvalue" not in shown(url) and "sec ret" not in shown(url)


def test_a_failed_delivery_reports_no_part_of_the_url():
    page = Page(1, "m", "opened", "red", "t", "b", __import__("datetime").datetime(2024, 1, 1))
    url = "json://127.0.0.1:9/inbox?+X-Fwd-Token=hdrSECRET9json"
    outcome = deliver(url, page, timeout=1)
    assert isinstance(outcome, Delivery) and not outcome.ok
    assert "hdrSECRET9json" not in (outcome.error or "")


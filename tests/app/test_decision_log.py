"""The decision log's rows and a metric's own marks (pure)."""

from __future__ import annotations

from app.decision_log import decision_rows, own_marks

NOTES = [
    {"ts": "2024-11-11T15:31:00+00:00", "author": "王强", "role": "general_manager", "level": "red", "alert_id": 4,
     "kind": "decision", "text": "切换备用服务器", "ref": None},
    {"ts": "2024-11-11T15:32:00+00:00", "author": "李娜", "role": "dba", "level": None, "alert_id": None,
     "kind": "duty", "text": "孙磊 stands in as dba for 赵磊", "ref": "duty:dba"},
    {"ts": "2024-11-11T15:33:00+00:00", "author": "张伟", "role": None, "level": None, "alert_id": None,
     "kind": "silence", "text": "silenced host_cpu for 30m: 监控机", "ref": "silence:1"},
    {"ts": "2024-11-11T15:34:00+00:00", "author": "张伟", "role": None, "level": None, "alert_id": None,
     "kind": "silence", "text": "silenced all metrics for 5m: 演练", "ref": "silence:2"},
    {"ts": "2024-11-11T15:35:00+00:00", "author": "李娜", "role": "ops_lead", "level": None, "alert_id": None,
     "kind": "decision", "text": "发布会推迟到 00:10", "ref": None},
]
SILENCES = [{"id": 1, "metric": "host_cpu"}, {"id": 2, "metric": None}]


def test_empty_fields_are_empty_cells_never_none():
    rows = decision_rows(NOTES, "zh-CN", "Asia/Shanghai")
    cells = [v for row in rows for v in row.values()]
    assert None not in cells and "None" not in cells
    assert rows[0]["告警"] == "#4" and rows[1]["告警"] == "" and rows[2]["角色"] == "" and rows[1]["级别"] == ""
    assert rows[0]["时间"] == "23:31:00"


def test_a_metric_marks_its_own_alerts_and_silences_only():
    mine = own_marks(NOTES, {4}, "order_success", SILENCES)
    assert [n["text"] for n in mine] == ["切换备用服务器", "silenced all metrics for 5m: 演练"]
    host = own_marks(NOTES, set(), "host_cpu", SILENCES)
    assert [n["ref"] for n in host] == ["silence:1", "silence:2"]

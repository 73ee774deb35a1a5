"""`warroom replay --db FILE`: the same API, read-only, over an archived night."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from alerts.log import AlertLog
from alerts.silences import Silences
from warroom.board import BoardReader, CampaignWindow
from warroom.config import LoadedConfig
from warroom.daemon import ApiServer, bind_socket
from warroom.history import sample_bounds
from warroom.store import Store, first_row, from_db_ts


class ArchivedAlerts:
    """What the read routes need of the alert engine, over an archive: its log, silences, a frozen clock."""

    def __init__(self, loaded: LoadedConfig, store: Store, clock: Callable[[], datetime],
                 started_at: datetime | None):
        self.cfg = loaded.config
        self.log = AlertLog(store)
        self.silences = Silences(store)
        self.clock = clock
        self.started_at = started_at


def open_archive(loaded: LoadedConfig, db: Path) -> tuple[Store, BoardReader, datetime | None]:
    """A read-only store and board reader; the campaign window is the one recorded in the file."""
    store = Store(db, read_only=True)
    row = first_row(store.reader().execute(
        "SELECT name, start_ts, end_ts, started_at FROM campaigns ORDER BY started_at DESC LIMIT 1"))
    _, last = sample_bounds(store.reader())
    if row:
        window = CampaignWindow(row[0], from_db_ts(row[1]), from_db_ts(row[2]))
    else:
        start, end = loaded.config.campaign.resolve(last or datetime.now(UTC))
        window = CampaignWindow(loaded.config.campaign.name, start, end)
    return store, BoardReader(loaded.config, store, window, latest=None), last


def serve_replay(loaded: LoadedConfig, db: Path, port: int | None) -> int:
    """Serve until Ctrl-C; 'now' in the API is the last moment recorded in the archive."""
    import threading

    from warroom.api import create_app
    from warroom.api_actions import attach_actions

    store, reader, last = open_archive(loaded, db)
    frozen = last or datetime.now(UTC)
    app = create_app(reader, lambda: frozen, lambda: {"mode": "replay", "database": str(db),
                                                        "database_wal": store.wal.as_dict()})
    started = first_row(store.reader().execute("SELECT max(started_at) FROM campaigns"))[0]
    history = ArchivedAlerts(loaded, store, lambda: frozen, from_db_ts(started))
    attach_actions(app, history, None, loaded.config.server.token_env)  # type: ignore[arg-type]
    server = loaded.config.server
    api = ApiServer(app, bind_socket(server.host, server.port if port is None else port))
    api.start()
    print(f"warroom replay: {db} read-only; API on http://{server.host}:{api.port}/api/v1/board?at=...  "
          f"(last sample {frozen.isoformat()})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    api.stop()
    store.close()
    return 0

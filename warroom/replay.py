"""`warroom replay --db FILE`: the same API, read-only, over an archived night."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from warroom.board import BoardReader, CampaignWindow
from warroom.config import LoadedConfig
from warroom.daemon import ApiServer, bind_socket
from warroom.history import sample_bounds
from warroom.store import Store, first_row, from_db_ts


def open_archive(loaded: LoadedConfig, db: Path) -> tuple[Store, BoardReader, datetime | None]:
    """A read-only store and board reader; the campaign window is the one recorded in the file."""
    store = Store(db, read_only=True)
    row = first_row(store.reader().execute(
        "SELECT name, start_ts, end_ts FROM campaigns ORDER BY started_at DESC LIMIT 1"))
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

    store, reader, last = open_archive(loaded, db)
    frozen = last or datetime.now(UTC)
    app = create_app(reader, lambda: frozen, lambda: {"mode": "replay", "database": str(db)})
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

"""Whether `pilkada ingest` has anything to do, decided before Prefect or GX is imported.

An hourly ingest usually finds nothing new. Running the flow for that costs a Prefect client
(and, without a server, a temporary one) and the GX import: ~10–20 s for a run that changes
nothing. The command line asks this module first and skips the flow only when every effect the
flow would have is provably void (`nothing_to_ingest`); any doubt runs the flow. Scheduled
deployment runs are flows and never come here.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from tasks.config import Settings
from tasks.ingest.feedback import missing_feedback
from tasks.ingest.judge import known_state
from tasks.ingest.pull import list_inbox
from tasks.warehouse.database import connect, schema_files, snapshot_path, up_to_date
from tasks.warehouse.lock import LockBusy, exclusive
from tasks.warehouse.reference import loaded_scope


def _newer_than(stamp: int, paths: list[Path]) -> bool:
    return any(p.stat().st_mtime_ns > stamp for p in paths)


def nothing_to_ingest(settings: Settings) -> str | None:
    """A line (Indonesian) saying why the ingest flow has nothing to do, or None to run it.

    Nothing to do means, all at once:
    - no mailbox configured (unread mail cannot be known without connecting to it);
    - the snapshot was published after the warehouse's last write (no WAL pending, the file not
      newer than its snapshot) and after the migrations and views in `sql/` last changed, so
      migrating, re-creating views and publishing would change nothing;
    - every migration applied and the reference data loaded for `settings.province`;
    - no feedback owed by an earlier run (`missing_feedback`);
    - the inbox lists no file the pull would read: each name with the fingerprint recorded when
      it was loaded (the pull's own test, `known_state`), and nothing that is not a submission
      (the flow would record it and report it in its summary), now or in the last run.

    Read under the ingest's lock without waiting: a running ingest or bulletin means the flow
    runs (and waits for it) instead.
    """
    if settings.imap is not None:
        return None
    warehouse = settings.warehouse
    snapshot = snapshot_path(warehouse)
    if not warehouse.exists() or not snapshot.exists() or \
            warehouse.with_name(warehouse.name + ".wal").exists():
        return None
    stamp = snapshot.stat().st_mtime_ns
    if _newer_than(stamp, [warehouse, *schema_files()]):
        return None
    try:
        with exclusive(settings.lock_path, "Pemeriksaan ingest"), \
                connect(warehouse, read_only=True) as con:
            if (not up_to_date(con) or loaded_scope(con) != settings.province
                    or missing_feedback(con) or con.execute(
                        "SELECT count(*) FROM audit.inbox_skipped WHERE present").fetchone()[0]):
                return None
            seen = known_state(con)[0]
            listed, skipped = list_inbox(settings.inbox)
    except (LockBusy, FileNotFoundError, duckdb.Error):
        return None  # the flow meets the same and says so (or waits for the lock's holder)
    if skipped or any((f.raw_path, f.fingerprint) not in seen for f in listed):
        return None
    count = f"{len(listed):_}".replace("_", ".")  # Indonesian thousands: 2.570
    return (f"Tidak ada yang baru: {count} berkas di folder masuk sudah dimuat dan tidak "
            "berubah, tidak ada umpan balik tertunda, gudang data dan snapshot mutakhir; flow "
            "ingest tidak dijalankan.")

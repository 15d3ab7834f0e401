"""The scheduled deployments of both flows, defined once here for `pilkada serve` and the tests
(`prefect.yaml` mirrors them for work pools; a test keeps the two in step).

| deployment                      | schedule (Asia/Makassar, WITA)          | cron           |
|---------------------------------|-----------------------------------------|----------------|
| `ingest-submissions/hourly`     | every hour on the hour, 06:00–22:00     | `0 6-22 * * *` |
| `weekly-bulletin/monday-0700`   | Monday 07:00, for the week just ended   | `0 7 * * 1`    |

With a desks' mailbox configured (PILKADA_IMAP_HOST, docs/operations.md), the ingest gets a second
schedule, `PILKADA_MAIL_CRON` (default `15,30,45 7-17 * * 1-6`): with the hourly one, every 15
minutes in working hours (Monday–Saturday 07:00–17:45 WITA), so a mailed report is answered in
minutes; `prefect.yaml` carries it inactive, to switch on where the worker has a mailbox.

The time zone is set on every schedule: a cron without one runs in UTC, which would put the
bulletin at Monday 15:00 WITA, after the Desk Pilkada meeting, and the "hourly 06–22" ingest at
14:00–06:00 WITA. Asia/Makassar is UTC+8 all year (no daylight saving). Scheduling needs a real
Prefect server (the ephemeral one cannot schedule): `flows/prefect_server.py` finds or starts one.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from flows.checkout import checkout

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

TIMEZONE = "Asia/Makassar"
INGEST_FLOW, INGEST_DEPLOYMENT, INGEST_CRON = "ingest-submissions", "hourly", "0 6-22 * * *"
BULLETIN_FLOW, BULLETIN_DEPLOYMENT, BULLETIN_CRON = "weekly-bulletin", "monday-0700", "0 7 * * 1"
INGEST_NAME = f"{INGEST_FLOW}/{INGEST_DEPLOYMENT}"
BULLETIN_NAME = f"{BULLETIN_FLOW}/{BULLETIN_DEPLOYMENT}"
SCHEDULES = {INGEST_NAME: INGEST_CRON, BULLETIN_NAME: BULLETIN_CRON}
TAGS = ["pilkada", "kaltim"]
# Two ingests of the deployment never run at once: the second waits its turn (ENQUEUE: it goes
# back to Scheduled, "AwaitingConcurrencySlot", and is tried again) instead of failing on the
# warehouse lock. The slot is a lease: a run that took it but never started (its process died
# before Running) gives it back after the grace period, and a running one renews it while alive,
# so a dead run cannot hold the slot for ever.
INGEST_CONCURRENCY = {"limit": 1, "collision_strategy": "ENQUEUE", "grace_period_seconds": 180}


def deployments(send: bool = False) -> list[RunnerDeployment]:
    """Both deployments, unregistered. Entrypoints are module paths (`flows.ingest.…`), so a
    served run finds the code wherever `pilkada serve` was started from.

    `send=True` makes the Monday bulletin deliver to the recipients (SMTP when configured, else
    `.eml` files in the outbox); by default it is only rendered into the outbox.

    The ingest has a deployment concurrency limit of 1 with ENQUEUE (`INGEST_CONCURRENCY`): an
    ingest that would overlap another one waits instead of failing on the warehouse lock. The
    bulletin has none: it already waits for the lock (up to 15 minutes) inside the run."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from flows.bulletin import weekly_bulletin
    from flows.ingest import ingest_submissions

    ingest = ingest_submissions.to_deployment(
        name=INGEST_DEPLOYMENT,
        schedules=[Cron(c, timezone=TIMEZONE) for c in ingest_crons()],
        description="Semua kiriman baru di inbox → arsip → validasi → gudang data; tiap jam "
                    "06:00–22:00 WITA. Idempoten: tanpa kiriman baru, tidak ada yang berubah.",
        tags=TAGS,
        entrypoint_type=EntrypointType.MODULE_PATH,
        concurrency_limit=ConcurrencyLimitConfig(**INGEST_CONCURRENCY),
    )
    bulletin = weekly_bulletin.to_deployment(
        name=BULLETIN_DEPLOYMENT,
        schedule=Cron(BULLETIN_CRON, timezone=TIMEZONE),
        parameters={"send": True} if send else {},
        description="Buletin minggu yang baru berakhir (WITA), Senin 07:00 WITA sebelum rapat "
                    "Desk Pilkada. Parameter `week` kosong = minggu lalu.",
        tags=TAGS,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    return [ingest, bulletin]


def ingest_crons() -> list[str]:
    """The ingest's schedules: hourly, and with a mailbox configured its working-hours one."""
    from tasks.config import load_settings

    imap = load_settings().imap
    return [INGEST_CRON] if imap is None else [INGEST_CRON, imap.cron]


def serve(send: bool = False, limit: int | None = None) -> None:
    """Register both deployments and run their flow runs on this machine until interrupted
    (Ctrl-C or SIGTERM). On the way out the schedules are paused, so nothing piles up while
    no one is serving; the next `serve` resumes them."""
    from prefect import serve as prefect_serve

    prefect_serve(*deployments(send=send), limit=limit, print_starting_message=False)


def use_checkout() -> dict[str, str]:
    """`prefect.yaml`'s pull step: change into the checkout PILKADA_CHECKOUT names on the worker,
    read when the run starts; refuse in one line when it is unset or names no checkout, before
    the run could change into a wrong folder and fail later on a missing file. One Python step
    rather than a shell check and `set_working_directory`: Prefect spends ~40 ms of every run
    on each step, the shell ~30 ms more. `pilkada-flow-run` does the same before Prefect's
    engine starts, when the deployment names its entrypoint (`flows.checkout.ENTRYPOINT_ENV`),
    and the engine then skips the pull steps; this step is what runs otherwise, and what
    refuses (`flows.checkout.checkout` is the check both use)."""
    folder = checkout()
    os.chdir(folder)
    return {"directory": folder}

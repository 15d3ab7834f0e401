"""The checkout a worker's flow runs change into (`PILKADA_CHECKOUT`), checked in one place for
`prefect.yaml`'s pull step (`flows.deployments.use_checkout`) and for `pilkada-flow-run`, which
does that step itself before Prefect's engine starts (`flows.warm_start`). Standard library only:
`pilkada-flow-run` imports it before anything else, and nothing here imports the flows.
"""

from __future__ import annotations

import os
from pathlib import Path

CHECKOUT_ENV = "PILKADA_CHECKOUT"  # on a worker: the checkout its runs change into
# In a prefect.yaml deployment's job environment: its entrypoint, so that `pilkada-flow-run` can
# do the pull step itself and have Prefect's engine load the flow directly (flows/warm_start.py)
ENTRYPOINT_ENV = "PILKADA_FLOW_ENTRYPOINT"


class CheckoutMissing(RuntimeError):
    """The worker's PILKADA_CHECKOUT is unset or names no checkout: the message says which."""


def checkout() -> str:
    """The checkout PILKADA_CHECKOUT names; CheckoutMissing, in one line, when it is unset or
    names no checkout (before a run could change into a wrong folder and fail later on a missing
    file)."""
    folder = os.environ.get(CHECKOUT_ENV, "")
    if not folder:
        raise CheckoutMissing(f"{CHECKOUT_ENV} tidak diatur di lingkungan worker: jalankan worker "
                              f"dengan {CHECKOUT_ENV}=<folder checkout Siaga Pilkada>")
    if not (Path(folder) / "flows" / "ingest.py").is_file():
        raise CheckoutMissing(f"{CHECKOUT_ENV}={folder} bukan checkout Siaga Pilkada "
                              "(flows/ingest.py tidak ada)")
    return folder

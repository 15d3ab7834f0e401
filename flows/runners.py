"""Where a flow's fanned-out tasks run, chosen by configuration (`PILKADA_DASK_ADDRESS`).

- unset (default): the flow's own runner, Prefect's thread pool in the flow's process;
- `local`: prefect-dask's `DaskTaskRunner` on a local cluster of worker processes (one thread
  each), started and stopped with the block;
- `tcp://host:8786`: `DaskTaskRunner` on an existing Dask scheduler, whose workers need this
  checkout's environment and the archive folder (`docs/operations.md`).

Chosen when the run starts, not when the flow module is imported, so a deployment's worker and
a one-off command read it from their own environment like every other `PILKADA_*` setting.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect.task_runners import TaskRunner


def task_runner(address: str | None) -> TaskRunner | None:
    """The Dask runner `address` names, or None for the flow's own (in-process) runner."""
    if not address:
        return None
    from prefect_dask import DaskTaskRunner

    if address == "local":
        # processes, one thread each: parsing and GX validation hold the GIL
        return DaskTaskRunner(cluster_kwargs={"processes": True, "threads_per_worker": 1,
                                              "dashboard_address": None})
    return DaskTaskRunner(address=address)


# Inside `fanned_out`: the flow's own runner, for work that must stay on this machine.
_home: ContextVar[TaskRunner | None] = ContextVar("pilkada_home_runner", default=None)


@contextlib.contextmanager
def fanned_out(address: str | None) -> Iterator[None]:
    """Inside a flow run: `.submit`/`.map` calls in the block go to the runner `address` names
    (a local cluster is started here and stopped at the end of the block)."""
    runner = task_runner(address)
    if runner is None:
        yield
        return
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None:
        raise RuntimeError("fanned_out() is for the body of a flow run")
    token = _home.set(context.task_runner)
    try:
        with runner, context.model_copy(update={"task_runner": runner}):
            yield
    finally:
        _home.reset(token)


def dask_threads() -> int | None:
    """Inside `fanned_out` on Dask: how many tasks the cluster runs at once (its workers'
    threads), for sizing a week's parts (`tasks.ingest.judge.parts`); None in-process."""
    if _home.get() is None:
        return None
    from prefect.context import FlowRunContext

    return sum(FlowRunContext.get().task_runner.client.nthreads().values()) or None


@contextlib.contextmanager
def at_home() -> Iterator[None]:
    """`.submit` calls in the block run on the flow's own runner, even inside `fanned_out`: for
    a step that writes this machine's folders (Data Docs in the outbox), which a Dask worker on
    another host could not."""
    home = _home.get()
    if home is None:
        yield
        return
    from prefect.context import FlowRunContext

    with FlowRunContext.get().model_copy(update={"task_runner": home}):
        yield

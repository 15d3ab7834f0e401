"""The project's own loggers (`tasks.*`, `reports.*`) in the logs of the Prefect run they happen in.

The steps log with `logging.getLogger(__name__)` because they are plain functions, also used
outside Prefect (`pilkada status`, tests, the bench). Prefect only records its run loggers, so a
warning such as "bukan kiriman: …" would reach the terminal but not the run's logs in the UI.

Prefect's own switch, `PREFECT_LOGGING_EXTRA_LOGGERS=tasks`, has two drawbacks here: it is read
when Prefect configures logging at import, so it must be set in every place a flow process
starts (CLI, `pilkada serve`, workers, tests) before Prefect is imported; and outside a run its
handler warns on every record ("attempted to send logs to the API without a flow run id"), which
the plain commands would print. So the flow modules install one handler instead: Prefect's API
log handler, passed only the records emitted inside a flow or task run. The records keep their
logger name (`tasks.ingest.judge`, `tasks.ingest.load`…) and are linked to the task run that
emitted them; the terminal still shows them once, through the root logger as before.
"""

from __future__ import annotations

import logging

from prefect.logging.handlers import APILogHandler

PROJECT_LOGGERS = ("tasks", "reports")  # the pipeline's steps and its presentation


class RunLogHandler(APILogHandler):
    """Prefect's API log handler, for records emitted inside a flow or task run only."""

    def emit(self, record: logging.LogRecord) -> None:
        from prefect.context import FlowRunContext, TaskRunContext

        if TaskRunContext.get() is None and FlowRunContext.get() is None:
            return  # a plain command or a test: the terminal (root logger) is enough
        super().emit(record)


def _extra_loggers() -> list[str]:
    from prefect.settings import PREFECT_LOGGING_EXTRA_LOGGERS

    return list(PREFECT_LOGGING_EXTRA_LOGGERS.value() or [])


def route_project_logs() -> None:
    """Install the handler on the project's loggers once (idempotent). Skipped for a logger Prefect
    already sends through its extra loggers, so no record reaches the run's logs twice."""
    extra = _extra_loggers()
    for name in PROJECT_LOGGERS:
        logger = logging.getLogger(name)
        if name in extra:
            continue
        if not any(isinstance(h, RunLogHandler) for h in logger.handlers):
            logger.addHandler(RunLogHandler())

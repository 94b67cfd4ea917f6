"""The Celery app. Tasks are thin interfaces over services (see each app's tasks.py)."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from celery import Celery, bootsteps
from click import Option
from kombu.exceptions import KombuError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragsite.settings")

app = Celery("ragsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Beat keeps its schedule in memory rather than in a shelve file (`--schedule`, under var/):
# the only periodic task, parse recovery, also runs when a worker starts, so nothing is lost
# across restarts, and a var/ deleted under a running `make run` no longer ends the embedded
# beat in a FileNotFoundError traceback.
app.conf.beat_scheduler = "celery.beat:Scheduler"
app.autodiscover_tasks()

# What publishing raises when the broker cannot be reached (Celery turns the transport's own
# connection errors into kombu's); OSError for a socket that fails outside that translation.
BROKER_ERRORS: tuple[type[Exception], ...] = (KombuError, OSError)

logger = logging.getLogger(__name__)


def send_scheduled(task_name: str) -> None:
    """Send one task of the beat schedule; a broker that is down is logged, not raised (the
    next tick tries again, as beat would)."""
    try:
        app.send_task(task_name)
    except BROKER_ERRORS as exc:
        logger.warning("Could not send %s, the broker is unreachable: %s", task_name, exc)


class ScheduleTimer(bootsteps.StartStopStep):
    """`celery worker --beat-timer`: the worker's main process sends the tasks of the beat
    schedule (`CELERY_BEAT_SCHEDULE`: every entry is a number of seconds) from the timer it
    already runs, instead of `-B` forking a beat process (140 MiB RSS in `make bench-memory`). Like
    `-B`, for a deployment with one worker: `make run` uses it; with several workers, run one
    `celery beat`."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, parent: Any, beat_timer: bool = False, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.enabled = bool(beat_timer)
        self.entries: list[Any] = []

    def start(self, parent: Any) -> None:
        for entry in (app.conf.beat_schedule or {}).values():
            seconds = float(entry["schedule"])
            self.entries.append(
                parent.timer.call_repeatedly(seconds, send_scheduled, (entry["task"],))
            )

    def stop(self, parent: Any) -> None:
        for entry in self.entries:
            entry.cancel()
        self.entries.clear()


app.user_options["worker"].add(
    Option(
        ("--beat-timer",),
        is_flag=True,
        default=False,
        help="Send the beat schedule's tasks from this worker's timer (no beat process).",
    )
)
app.steps["worker"].add(ScheduleTimer)


def waiting_task_ids() -> set[str] | None:
    """The ids of the tasks waiting in the broker's queues; None if the broker can't be read.

    Reads the Redis/Valkey transport's queue lists (one per queue and priority step), where
    each message is JSON with the task id in its headers. Tasks a worker has already taken are
    not listed. With tasks run eagerly, or another transport, nothing is known to wait: the
    answer is an empty set.
    """
    if app.conf.task_always_eager:
        return set()
    connection = app.connection_for_read()
    try:
        connection.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0.2, interval_max=0.5
        )
        channel = connection.default_channel
        client = getattr(channel, "client", None)
        if client is None or not hasattr(channel, "_q_for_pri"):
            return set()
        keys = {
            channel._q_for_pri(queue, priority)
            for queue in app.amqp.queues
            for priority in channel.priority_steps
        }
        ids: set[str] = set()
        for key in keys:
            for raw in client.lrange(key, 0, -1):
                try:
                    ids.add(str(json.loads(raw)["headers"]["id"]))
                except (ValueError, KeyError, TypeError):
                    continue
        return ids
    except (*BROKER_ERRORS, *connection.connection_errors, *connection.channel_errors):
        return None
    finally:
        connection.release()

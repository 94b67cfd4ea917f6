"""`make run-cluster`: bring the scale-out topology up on this machine and keep it up.

Settings (environment): RAGSITE_CLUSTER_DIR (default var/cluster), RAGSITE_CLUSTER_PORT (the
proxy, default 9580; web processes take the next ports), RAGSITE_CLUSTER_WEB (2),
RAGSITE_CLUSTER_WORKERS (2), RAGSITE_CLUSTER_PG_PORT (5580), RAGSITE_CLUSTER_REDIS_PORT (6580),
RAGSITE_CLUSTER_S3_PORT (9590), RAGSITE_CLUSTER_MEDIA (s3 or local).

A web process, worker, beat, nginx or the S3 server that dies is started again (after 1 s,
doubling up to 30 s while it keeps dying); so are PostgreSQL and Redis. Ctrl-C or SIGTERM stops
everything this started.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from ragsite.accounts.bootstrap import PASSWORD_LABEL
from ragsite.cluster.topology import ROOT, Cluster, ClusterError, Ports, Proc
from ragsite.launcher import Backoff, exit_status


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    try:
        return int(raw)
    except ValueError:
        raise ClusterError(f"{name} must be an integer, got {raw!r}") from None


def cluster_from_env() -> Cluster:
    proxy = _int("RAGSITE_CLUSTER_PORT", 9580)
    ports = Ports(
        proxy=proxy,
        postgres=_int("RAGSITE_CLUSTER_PG_PORT", 5580),
        redis=_int("RAGSITE_CLUSTER_REDIS_PORT", 6580),
        s3=_int("RAGSITE_CLUSTER_S3_PORT", 9590),
        webs=_int("RAGSITE_CLUSTER_WEB", 2),
    )
    media = os.environ.get("RAGSITE_CLUSTER_MEDIA") or "s3"
    if media not in {"s3", "local"}:
        raise ClusterError(f"RAGSITE_CLUSTER_MEDIA must be s3 or local, got {media!r}")
    directory = Path(os.environ.get("RAGSITE_CLUSTER_DIR") or ROOT / "var" / "cluster")
    return Cluster(directory, ports, workers=_int("RAGSITE_CLUSTER_WORKERS", 2), media=media)


class Supervisor:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.signals = 0
        self.backoffs: dict[str, Backoff] = {}
        self.due: dict[str, float] = {}

    def say(self, text: str) -> None:
        print(f"cluster | {text}", flush=True)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signals += 1

    def _later(self, name: str, uptime: float) -> None:
        if name not in self.due:
            delay = self.backoffs.setdefault(name, Backoff()).next_delay(uptime)
            self.due[name] = time.monotonic() + delay
            self.say(f"restarting {name} in {delay:.0f} s")

    def _ready(self, name: str) -> bool:
        if time.monotonic() < self.due.get(name, float("inf")):
            return False
        del self.due[name]
        return True

    def supervise(self) -> None:
        cluster = self.cluster
        while not self.signals:
            for proc in cluster.children():
                if proc.alive():
                    continue
                if proc.name not in self.due:
                    code = proc.popen.returncode if proc.popen else None
                    how = exit_status(code) if code is not None else "not running"
                    self.say(f"{proc.name} exited ({how}); log: {proc.log}")
                self._later(proc.name, time.monotonic() - proc.started_at)
                if self._ready(proc.name):
                    self._restart(proc)
            for name, running, start in (
                ("PostgreSQL", cluster.postgres_running, cluster.start_postgres),
                ("Redis", cluster.redis_running, cluster.start_redis),
            ):
                if running():
                    continue
                self._later(name, 0.0)
                if self._ready(name):
                    try:
                        start()
                        self.say(f"restarted {name}")
                    except (ClusterError, OSError) as exc:
                        self.say(f"restarting {name} failed: {exc}")
            time.sleep(1.0)

    def _restart(self, proc: Proc) -> None:
        try:
            proc.start()
        except OSError as exc:
            self.say(f"restarting {proc.name} failed: {exc}")
        else:
            self.say(f"restarted {proc.name} (pid {proc.pid})")

    def bootstrap_admin(self) -> str:
        out = self.cluster.manage("bootstrap_admin")
        for line in out.splitlines():
            if line.startswith(PASSWORD_LABEL):
                return f"user admin, password {line.removeprefix(PASSWORD_LABEL)} (shown only this once)"
        return "user admin, with the password set before (manage.py changepassword admin)"

    def banner(self, login: str, took: float) -> None:
        c = self.cluster
        rule = "=" * 78
        env = c.app_env()
        lines = [
            rule,
            f"  ragsite cluster is running at {c.url}   (ready in {took:.1f} s)",
            "",
            f"  Log in:   {login}",
            f"  Proxy:    nginx on 127.0.0.1:{c.ports.proxy} -> Daphne on "
            + ", ".join(f":{p}" for p in c.ports.web),
            f"  Workers:  {len(c.celery)} Celery workers + 1 beat",
            f"  Database: PostgreSQL {c.pg_bin.parent.name} + pgvector on 127.0.0.1:{c.ports.postgres}",
            f"  Broker:   Redis on 127.0.0.1:{c.ports.redis}",
            "  Files:    "
            + (
                f"S3 (s3rver) at {c.s3_endpoint}, bucket {env.get('RAGSITE_S3_BUCKET')}"
                if c.media == "s3"
                else f"local folder {env['MEDIA_ROOT']}"
            ),
            f"  Logs:     {c.logs}/ (web-N.log, worker-N.log, beat.log, nginx.log, s3.log)",
            f"  manage.py: set -a; . {c.directory}/env; set +a; .venv/bin/python manage.py ...",
            "  Stop:     Ctrl-C (or make stop-cluster)",
            rule,
        ]
        print("\n".join(lines), flush=True)

    def write_env_file(self) -> None:
        """The processes' settings, for manage.py from another terminal (mode 0600)."""
        path = self.cluster.directory / "env"
        keys = ["DATABASE_URL", "REDIS_URL", "SECRET_KEY", "RAGSITE_VAR_DIR", "MEDIA_ROOT"]
        env = self.cluster.app_env()
        keys += [k for k in env if k.startswith("RAGSITE_S3_")]
        path.write_text("".join(f"{k}='{env[k]}'\n" for k in keys if k in env))
        path.chmod(0o600)

    def run(self) -> int:
        # While starting, a stop request interrupts at once (Cluster.start cleans up).
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _interrupt)
        started = time.monotonic()
        self.cluster.directory.mkdir(parents=True, exist_ok=True)
        (self.cluster.directory / "supervisor.pid").write_text(str(os.getpid()))
        try:
            self.cluster.start(say=self.say)
            self.write_env_file()
            login = self.bootstrap_admin()
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, self._on_signal)
            self.banner(login, time.monotonic() - started)
            self.supervise()
            self.say("stop requested")
            return 0
        except ClusterError as exc:
            self.say(f"error: {exc}")
            return 1
        except KeyboardInterrupt:
            self.say("stop requested while starting")
            return 1
        finally:
            self.say("stopping...")
            self.cluster.stop()
            (self.cluster.directory / "supervisor.pid").unlink(missing_ok=True)
            self.say("stopped")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def stop(cluster: Cluster) -> int:
    """`make stop-cluster`: ask the supervisor to stop; stop what a killed one left running."""
    pidfile = cluster.directory / "supervisor.pid"
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        pid = 0
    if pid and _alive(pid):
        print(f"cluster | stopping the supervisor (pid {pid})", flush=True)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    if cluster.redis_running():
        print("cluster | stopping Redis", flush=True)
        cluster.stop_redis()
    if cluster.postgres_running():
        print("cluster | stopping PostgreSQL", flush=True)
        cluster.stop_postgres()
    print("cluster | stopped", flush=True)
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main() -> None:
    try:
        cluster = cluster_from_env()
    except ClusterError as exc:
        sys.exit(f"cluster | error: {exc}")
    if sys.argv[1:] == ["stop"]:
        sys.exit(stop(cluster))
    sys.exit(Supervisor(cluster).run())


if __name__ == "__main__":
    main()

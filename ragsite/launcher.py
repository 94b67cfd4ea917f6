"""`make run`: start PostgreSQL, Valkey, migrations, Daphne and a Celery worker, and supervise them.

Run as `python -m ragsite.launcher`. Daphne runs as RAGSITE_WEB_PROCESSES processes (default 1)
accepting on one socket the launcher binds. Every child's output is re-printed with a fixed-width
tag (`web    | ...`). Ctrl-C or SIGTERM stops everything this process started. Once the site has
answered, a child that dies (Daphne, the Celery worker, Valkey, or PostgreSQL, which pg_ctl
daemonized and which is watched by polling) is restarted after a delay that doubles with each
quick death (1 s up to 30 s); while starting up, a dead child stops the launch with exit code 1,
since that is usually a configuration error. With DATABASE_URL or REDIS_URL set, the
corresponding embedded server is not started and that URL is used as is.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

from ragsite.accounts.bootstrap import EXISTS_MESSAGE, PASSWORD_LABEL
from ragsite.embedded import (
    Postgres,
    port_in_use,
    restart_postgres,
    start_postgres,
    valkey_command,
    valkey_ping,
)

ROOT = Path(__file__).resolve().parent.parent
TAG_WIDTH = 6
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
PR_SET_CHILD_SUBREAPER = 36
STOP_TIMEOUT = 10.0  # seconds a child gets to exit after SIGTERM before it is SIGKILLed
POLL = 0.2
RESTART_FIRST = 1.0  # seconds before restarting a child that died...
RESTART_CEILING = 30.0  # ...doubling with each quick death up to this...
RESTART_STABLE_AFTER = 120.0  # ...and back to the first delay once it had run this long
POSTGRES = "PostgreSQL"

_libc = ctypes.CDLL(None, use_errno=True)


class LaunchError(Exception):
    """A failure worth one clear line to the user rather than a traceback."""


class StopRequested(Exception):
    """Ctrl-C or SIGTERM arrived: unwind to the shutdown code."""


@dataclass
class Child:
    """A process the launcher spawned and must stop (and, if it dies, start again)."""

    name: str
    tag: str
    args: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    reader: threading.Thread
    started_at: float
    oneshot: bool = False  # migrate / bootstrap: exiting is expected
    fds: tuple[int, ...] = ()  # descriptors it inherits (the web processes' listening socket)


class Backoff:
    """How long to wait before restarting a child that keeps dying.

    1, 2, 4… seconds up to a ceiling while it dies soon after each start; back to the first
    delay once it had stayed up `stable_after` seconds, so one crash a day restarts at once.
    """

    def __init__(
        self,
        first: float = RESTART_FIRST,
        ceiling: float = RESTART_CEILING,
        stable_after: float = RESTART_STABLE_AFTER,
    ) -> None:
        """No delay is owed yet."""
        self.first = first
        self.ceiling = ceiling
        self.stable_after = stable_after
        self.current = 0.0

    def next_delay(self, uptime: float) -> float:
        """The delay before the next start of a child that ran `uptime` seconds, then died."""
        if self.current == 0.0 or uptime >= self.stable_after:
            self.current = self.first
        else:
            self.current = min(self.current * 2, self.ceiling)
        return self.current


@dataclass
class Restart:
    """A dead child waiting for its next start."""

    at: float  # time.monotonic() of the next attempt
    start: Callable[[], None]


def exit_status(returncode: int) -> str:
    """`exit code 1` or `killed by SIGKILL`, from a Popen-style return code."""
    if returncode >= 0:
        return f"exit code {returncode}"
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"


@dataclass
class AdminInfo:
    """What bootstrap_admin said, so the banner can explain how to log in."""

    password: str | None = None
    existed: bool = False


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A preexec_fn making the child get SIGTERM if the launcher dies, even by SIGKILL."""

    def preexec() -> None:
        """Runs in the forked child just before exec."""
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        # The launcher may have died between fork and prctl; then nobody would signal us.
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def _env_int(name: str, default: int) -> int:
    """Read an integer setting, failing with a readable message instead of a ValueError."""
    raw = os.environ.get(name) or str(default)
    try:
        return int(raw)
    except ValueError:
        raise LaunchError(f"{name} must be an integer, got {raw!r}") from None


def listening_socket(host: str, port: int) -> socket.socket:
    """The web port, bound once here and inherited by every web process (`daphne --fd N`):
    the kernel hands each new connection to whichever process accepts first, i.e. an idle one.
    Kept open by the launcher, so a restarted web process serves the same port."""
    family = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _http_status(url: str) -> int | None:
    """HTTP status of GET url, or None if nothing answers yet."""
    # No proxies: an http_proxy in the environment must not intercept a loopback probe.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)  # an error page still means the server is up
    except OSError:
        return None


class Launcher:
    """Starts the stack in dependency order, prints its output, and tears it down."""

    def __init__(self) -> None:
        """Read the environment once; nothing is started here."""
        self.var_dir = Path(os.environ.get("RAGSITE_VAR_DIR") or ROOT / "var").resolve()
        self.host = os.environ.get("RAGSITE_HOST") or "127.0.0.1"
        self.port = _env_int("RAGSITE_PORT", 9380)
        self.valkey_port = _env_int("RAGSITE_VALKEY_PORT", 6390)
        # One by default: each process holds its own Django, segmenter and embedding model
        # (~380 MiB RSS), and the stack keeps within 1 GiB idle; more serve more requests at once.
        self.web_processes = _env_int("RAGSITE_WEB_PROCESSES", 1)
        if self.web_processes < 1:
            raise LaunchError(f"RAGSITE_WEB_PROCESSES must be at least 1, got {self.web_processes}")
        # Read by the web processes' settings; checked here so a wrong value is one line.
        if (threads := _env_int("RAGSITE_SYNC_VIEW_THREADS", 32)) < 1:
            raise LaunchError(f"RAGSITE_SYNC_VIEW_THREADS must be at least 1, got {threads}")
        self.web_socket: socket.socket | None = None
        self.env = {
            **os.environ,
            "RAGSITE_VAR_DIR": str(self.var_dir),
            "PYTHONUNBUFFERED": "1",  # so child output shows up line by line, as it happens
        }
        self.env.setdefault("DJANGO_SETTINGS_MODULE", "ragsite.settings")
        self.children: list[Child] = []
        self.postgres: Postgres | None = None
        self.postgres_started_at = 0.0
        self.postgres_exit: int | None = None  # the postmaster's return code, once reaped
        self.backoffs: dict[str, Backoff] = {}
        self.restarts: dict[str, Restart] = {}
        self.signals = 0
        self.print_lock = threading.Lock()
        self.pg_log_done = threading.Event()
        self.pg_tail: threading.Thread | None = None
        self.started_at = time.monotonic()

    # --- output -------------------------------------------------------------------------

    def emit(self, tag: str, text: str) -> None:
        """Print one tagged line; lines from different threads never interleave."""
        self.write(f"{tag:<{TAG_WIDTH}} | {text}")

    def say(self, text: str) -> None:
        """A message from the launcher itself."""
        self.emit("launch", text)

    def write(self, text: str) -> None:
        """Print raw text atomically, ignoring a closed stdout (e.g. piped into `head`)."""
        with self.print_lock:
            try:
                sys.stdout.write(text + "\n")
                sys.stdout.flush()
            except (BrokenPipeError, ValueError):
                pass

    def _pump(self, tag: str, stream: IO[bytes], on_line: Callable[[str], bool] | None) -> None:
        """Re-print a child's output; on_line may swallow a line by returning False."""
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if on_line is None or on_line(line):
                self.emit(tag, line)
        stream.close()

    def _tail_pg_log(self, path: Path, offset: int) -> None:
        """Follow the Postgres log file (pg_ctl writes it, not us) until told to stop."""
        while not path.exists():
            if self.pg_log_done.wait(POLL):
                return
        with path.open("rb") as log:
            if log.seek(0, os.SEEK_END) >= offset:
                log.seek(offset)  # skip what earlier runs wrote
            else:
                log.seek(0)  # the file was recreated since we measured it
            partial = b""
            while True:
                chunk = log.readline()
                if chunk.endswith(b"\n"):
                    self.emit("pg", (partial + chunk).decode("utf-8", "replace").rstrip())
                    partial = b""
                elif chunk:
                    partial += chunk
                elif self.pg_log_done.is_set():
                    break
                else:
                    time.sleep(POLL)
            if partial:
                self.emit("pg", partial.decode("utf-8", "replace").rstrip())

    # --- processes ------------------------------------------------------------------------

    def spawn(
        self,
        name: str,
        tag: str,
        args: list[str],
        *,
        env: dict[str, str] | None = None,
        oneshot: bool = False,
        on_line: Callable[[str], bool] | None = None,
        fds: tuple[int, ...] = (),
    ) -> Child:
        """Start a child in its own process group, with its output pumped to ours."""
        env = env or self.env
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Own group: a terminal Ctrl-C reaches only the launcher, which then stops the
            # children in order instead of them all racing to exit at once.
            process_group=0,
            preexec_fn=_die_with_parent(os.getpid()),
            pass_fds=fds,
        )
        assert proc.stdout is not None
        reader = threading.Thread(
            target=self._pump, args=(tag, proc.stdout, on_line), name=f"pump-{tag}", daemon=True
        )
        reader.start()
        child = Child(name, tag, args, env, proc, reader, time.monotonic(), oneshot, fds)
        self.children.append(child)
        return child

    def _check(self) -> None:
        """While starting: raise if asked to stop or if a long-running child (or Postgres) died."""
        if self.signals:
            raise StopRequested
        self._reap_orphans()
        for child in self.children:
            code = child.proc.poll()
            if code is not None and not child.oneshot:
                raise LaunchError(f"{child.name} exited unexpectedly ({exit_status(code)})")
        if self.postgres is not None and not self._postgres_alive():
            raise LaunchError(f"PostgreSQL (pid {self.postgres.pid}) died; see the pg lines above")

    def _postgres_alive(self) -> bool:
        """True while the postmaster runs.

        pg_ctl daemonized it, so it became our child only through PR_SET_CHILD_SUBREAPER (and
        not at all if adopted from an earlier run): reap it if we can, else look at /proc.
        """
        import psutil

        assert self.postgres is not None
        if self.postgres_exit is not None:
            return False
        try:
            pid, status = os.waitpid(self.postgres.pid, os.WNOHANG)
        except ChildProcessError:
            pass
        else:
            if pid == 0:
                return True
            self.postgres_exit = os.waitstatus_to_exitcode(status)
            return False
        try:
            return psutil.Process(self.postgres.pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    def _reap_orphans(self) -> None:
        """Reap the exited processes we inherited as a subreaper, so none lingers as a zombie.

        These are a postmaster (recording how it ended), its backends after it died, or a dead
        worker's pool processes. Our Popen children are left to their own poll().
        """
        known = {child.proc.pid for child in self.children}
        while True:
            try:
                # WNOWAIT: only look, so that a Popen child is not reaped behind its back.
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None or info.si_pid in known or info.si_pid == 0:
                return
            try:
                pid, status = os.waitpid(info.si_pid, os.WNOHANG)
            except ChildProcessError:
                continue
            if self.postgres is not None and pid == self.postgres.pid:
                self.postgres_exit = os.waitstatus_to_exitcode(status)

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll `ready` while watching for signals and dead children."""
        deadline = time.monotonic() + timeout
        while True:
            self._check()
            if ready():
                # `ready` may have waited long: the web port is bound before Daphne starts, so
                # a request queues until a web process accepts it. A death meanwhile still counts.
                self._check()
                return
            if time.monotonic() > deadline:
                raise LaunchError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(POLL)

    def run_once(
        self, tag: str, args: list[str], on_line: Callable[[str], bool] | None = None
    ) -> None:
        """Run a setup command to completion, failing the launch if it fails."""
        name = " ".join(args[1:])
        child = self.spawn(name, tag, args, oneshot=True, on_line=on_line)
        self.wait_until(lambda: child.proc.poll() is not None, 3600, f"`{name}`")
        child.reader.join(5)  # let its last lines through before what comes next
        self.children.remove(child)
        if child.proc.returncode != 0:
            raise LaunchError(f"`{name}` failed with code {child.proc.returncode}")

    # --- startup --------------------------------------------------------------------------

    def check_ports(self) -> None:
        """Fail early, before anything is started, if a port we need is taken."""
        if port_in_use(self.host, self.port):
            raise LaunchError(
                f"port {self.port} on {self.host} is already in use (another `make run`?). "
                f"Stop whatever holds it, or choose another port: RAGSITE_PORT={self.port + 1} make run"
            )
        if not os.environ.get("REDIS_URL") and port_in_use("127.0.0.1", self.valkey_port):
            raise LaunchError(
                f"port {self.valkey_port} (embedded Valkey) is already in use. Stop whatever holds "
                f"it, choose another port (RAGSITE_VALKEY_PORT={self.valkey_port + 1} make run), or "
                "set REDIS_URL to a Redis you run yourself"
            )

    def start_postgres(self) -> None:
        """Start the embedded PostgreSQL and create the database.

        A server left running on the same data dir by a crashed launcher is adopted: reused
        now and stopped on exit like one we started.
        """
        import psycopg

        pgdata = self.var_dir / "postgres"
        log = pgdata / "log"
        offset = log.stat().st_size if log.exists() else 0
        self.say(f"starting PostgreSQL 18 (data in {pgdata})")
        self.pg_tail = threading.Thread(
            target=self._tail_pg_log, args=(log, offset), name="pg-log", daemon=True
        )
        self.pg_tail.start()
        try:
            self.postgres = start_postgres(pgdata)
        except ValueError as exc:  # a wrong RAGSITE_PG_SHARED_BUFFERS
            raise LaunchError(str(exc)) from None
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise LaunchError(
                f"PostgreSQL failed to start ({exc}); see the pg lines above"
            ) from None
        self.postgres_started_at = time.monotonic()
        if self.postgres.adopted:
            self.say(
                f"reusing the PostgreSQL already running on {pgdata} (pid {self.postgres.pid})"
            )
        try:
            if self.postgres.ensure_database():
                self.say("created database ragsite")
        except psycopg.Error as exc:
            raise LaunchError(f"cannot create the database ragsite: {exc}") from None
        self.env["DATABASE_URL"] = self.postgres.url()

    def start_valkey(self) -> None:
        """Start Valkey in the foreground, as our child, and wait until it answers."""
        workdir = self.var_dir / "valkey"
        workdir.mkdir(parents=True, exist_ok=True)
        self.say(f"starting Valkey on 127.0.0.1:{self.valkey_port}")
        self.spawn("valkey", "valkey", valkey_command(self.valkey_port, workdir))
        self.wait_until(lambda: valkey_ping(self.valkey_port), 15, "Valkey to answer PING")
        self.env["REDIS_URL"] = f"redis://127.0.0.1:{self.valkey_port}/0"

    def bootstrap_admin(self) -> AdminInfo:
        """Run bootstrap_admin, keeping a generated password out of the log for the banner."""
        info = AdminInfo()

        def on_line(line: str) -> bool:
            """Capture the password line instead of printing it twice."""
            if line.startswith(PASSWORD_LABEL):
                info.password = line.removeprefix(PASSWORD_LABEL)
                return False
            info.existed = info.existed or line.startswith(EXISTS_MESSAGE)
            return True

        self.run_once("setup", [sys.executable, "manage.py", "bootstrap_admin"], on_line)
        return info

    def start(self) -> AdminInfo:
        """Bring the whole stack up, in dependency order."""
        self.check_ports()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        if os.environ.get("DATABASE_URL"):
            self.say("DATABASE_URL is set: not starting the embedded PostgreSQL")
        else:
            self.start_postgres()
        if os.environ.get("REDIS_URL"):
            self.say("REDIS_URL is set: not starting the embedded Valkey")
        else:
            self.start_valkey()
        self.run_once("setup", [sys.executable, "manage.py", "migrate", "--noinput"])
        admin = self.bootstrap_admin()
        count = self.web_processes
        try:
            self.web_socket = listening_socket(self.host, self.port)
        except OSError as exc:
            raise LaunchError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        if self.web_socket.family == socket.AF_INET:
            fd: tuple[int, ...] = (self.web_socket.fileno(),)
            daphne = ["-m", "daphne", "--fd", str(fd[0]), "ragsite.asgi:application"]
        else:
            # Twisted adopts only IPv4 descriptors by command line: one process binds the port.
            self.web_socket.close()
            self.web_socket, fd, count = None, (), 1
            daphne = ["-m", "daphne", "-b", self.host, "-p", str(self.port),
                      "ragsite.asgi:application"]  # fmt: skip
        self.say(
            f"starting Daphne on {self.host}:{self.port} "
            f"({count} web process{'es' if count > 1 else ''}) and a Celery worker"
        )
        # The web processes borrow PostgreSQL connections from a pool (ragsite/settings.py).
        web_env = {**self.env, "RAGSITE_DB_POOL": self.env.get("RAGSITE_DB_POOL", "1")}
        for n in range(1, count + 1):
            name = "web (daphne)" if count == 1 else f"web (daphne {n})"
            tag = "web" if count == 1 else f"web{n}"
            self.spawn(name, tag, [sys.executable, *daphne], env=web_env, fds=fd)
        # --beat-timer (ragsite/celery.py): the worker itself sends the periodic recovery of
        # parses whose worker died, with no beat process. With several workers in production,
        # run one `celery beat` instead.
        celery = ["-m", "celery", "-A", "ragsite", "worker", "-l", "info", "--concurrency=1",
                  "--beat-timer"]  # fmt: skip
        # Embedding batches may use every core (ONNX Runtime's idle threads sleep rather than
        # spin, so Daphne and PostgreSQL still get a core when they need one); OpenMP and BLAS
        # elsewhere keep to one thread.
        worker_env = {
            **self.env,
            "OMP_NUM_THREADS": "1",
            "RAGSITE_EMBED_THREADS": self.env.get(
                "RAGSITE_EMBED_THREADS", str(min(4, os.cpu_count() or 1))
            ),
        }
        self.spawn("worker (celery)", "worker", [sys.executable, *celery], env=worker_env)
        return admin

    # --- running and stopping -----------------------------------------------------------------

    @property
    def url(self) -> str:
        """The address to show users and to probe (a wildcard bind is reachable on loopback)."""
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::", ""} else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}/"

    def elapsed(self) -> float:
        """Seconds since the launcher started, for the banner."""
        return time.monotonic() - self.started_at

    def banner(self, admin: AdminInfo, status: int) -> None:
        """Tell the user where the site is and how to get in, once it answers."""
        if admin.password:
            login = f"user admin, password {admin.password}   (shown only this once: note it now)"
        elif admin.existed:
            login = "user admin, with the password you already set (forgot it? "
            login += ".venv/bin/python manage.py changepassword admin)"
        else:
            login = "user admin, with the password in RAGSITE_ADMIN_PASSWORD"
        # manage.py run from another terminal must find the same servers as the children.
        prefix = ""
        if os.environ.get("RAGSITE_VAR_DIR"):
            prefix += f"RAGSITE_VAR_DIR={self.var_dir} "
        if self.postgres is not None and self.postgres.socket_dir != self.postgres.pgdata:
            prefix += f"DATABASE_URL='{self.postgres.url()}' "
        rule = "=" * 78
        lines = [
            rule,
            f"  ragsite is running at {self.url}   (ready in {self.elapsed():.1f} s)",
            "",
            f"  Log in:   {login}",
            f"  API key:  create one in the web UI at {self.url}keys/",
            "            or, in another terminal in this directory:",
            f"              {prefix}.venv/bin/python manage.py create_api_key admin",
            "            (the last line it prints is the key; send it as `Authorization: Bearer <key>`)",
            "  Clients:  ragflow-sdk 0.27.x (RAGFlow v0.27 API, the default for new keys) and",
            "            ragflow-sdk 0.22.x (v0.22: add --generation v0.22, or pick it on the keys",
            "            page); openai clients at /api/v1/openai/<chat_id> and /api/v1/chats_openai/<chat_id>",
            f"  Data:     {self.var_dir}",
            "  Stop:     Ctrl-C (stops Daphne, Celery, Valkey and PostgreSQL)",
        ]
        if status != 200:
            lines.append(
                f"  Note:     /accounts/login/ answered HTTP {status}; see the web lines above"
            )
        self.write("\n".join([*lines, rule]))

    def supervise(self) -> None:
        """Until a signal arrives (which raises), restart with backoff whatever dies."""
        while True:
            if self.signals:
                raise StopRequested
            self._reap_orphans()
            now = time.monotonic()
            for child in [c for c in self.children if c.proc.poll() is not None]:
                self._bury(child)
                how = f"{child.name} exited unexpectedly ({exit_status(child.proc.returncode)})"
                self._schedule(child.name, how, now - child.started_at, self._respawner(child))
            if (
                self.postgres is not None
                and POSTGRES not in self.restarts
                and not self._postgres_alive()
            ):
                code = self.postgres_exit
                how = exit_status(code) if code is not None else "exit status unknown"
                what = f"{POSTGRES} (pid {self.postgres.pid}) died ({how})"
                self._schedule(
                    POSTGRES, what, now - self.postgres_started_at, self._restart_postgres
                )
            for name, restart in list(self.restarts.items()):
                if self.signals:
                    break
                if time.monotonic() >= restart.at:
                    self._attempt(name, restart)
            time.sleep(POLL)

    def _bury(self, child: Child) -> None:
        """Forget a dead child and kill what it left in its process group (its pool)."""
        self.children.remove(child)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.proc.pid, signal.SIGKILL)
        child.reader.join(2)  # its last lines come before the news of its death

    def _schedule(self, name: str, what: str, uptime: float, start: Callable[[], None]) -> None:
        """Announce a death and when the restart will be."""
        delay = self.backoffs.setdefault(name, Backoff()).next_delay(uptime)
        when = time.strftime("%H:%M:%S", time.localtime(time.time() + delay))
        self.say(f"{what}; restarting it in {delay:.0f} s (at {when})")
        self.restarts[name] = Restart(time.monotonic() + delay, start)

    def _attempt(self, name: str, restart: Restart) -> None:
        """Try one restart; on failure, wait longer before the next try."""
        del self.restarts[name]
        try:
            restart.start()
        except (subprocess.SubprocessError, OSError, RuntimeError) as exc:
            delay = self.backoffs.setdefault(name, Backoff()).next_delay(0.0)
            self.say(f"restarting {name} failed ({exc}); next try in {delay:.0f} s")
            self.restarts[name] = Restart(time.monotonic() + delay, restart.start)
        else:
            self.say(f"restarted {name}")

    def _respawner(self, child: Child) -> Callable[[], None]:
        """Start a dead child again, the same way."""

        def respawn() -> None:
            """Spawn it with the same command line and environment."""
            self.spawn(child.name, child.tag, child.args, env=child.env, fds=child.fds)

        return respawn

    def _restart_postgres(self) -> None:
        """Start the postmaster again on the same data dir, socket and port."""
        assert self.postgres is not None
        self.postgres = restart_postgres(self.postgres)
        self.postgres_exit = None
        self.postgres_started_at = time.monotonic()

    def _stop_children(self, children: list[Child], timeout: float) -> None:
        """SIGTERM the children, wait for them together, then SIGKILL their process groups."""
        for child in children:
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        # A second Ctrl-C means "now": skip the grace period.
        while time.monotonic() < deadline and self.signals < 2:
            if all(child.proc.poll() is not None for child in children):
                break
            time.sleep(0.05)
        for child in children:
            if child.proc.poll() is None:
                self.say(f"{child.name} did not stop in time; killing it")
            # The whole group, so a Celery pool process cannot outlive its parent.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.proc.pid, signal.SIGKILL)
            child.proc.wait()
            child.reader.join(2)

    def shutdown(self) -> None:
        """Stop everything we started, in reverse dependency order."""
        apps = [c for c in self.children if c.name != "valkey"]
        valkey = [c for c in self.children if c.name == "valkey"]
        if self.children or self.postgres is not None:
            self.say("stopping...")
        self._stop_children(apps, STOP_TIMEOUT)
        self._stop_children(valkey, STOP_TIMEOUT / 2)
        if self.postgres is not None:
            try:
                if note := self.postgres.stop():
                    self.say(note)
            except (subprocess.SubprocessError, OSError) as exc:
                self.say(f"stopping PostgreSQL failed ({exc}); it may still be running")
        if self.web_socket is not None:
            self.web_socket.close()
            self.web_socket = None
        self._reap_orphans()
        self.pg_log_done.set()
        if self.pg_tail is not None:
            self.pg_tail.join(2)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Only count: the main loop notices and unwinds (printing here could deadlock)."""
        self.signals += 1

    def run(self) -> int:
        """Launch, supervise until stopped, clean up; return the process exit code."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        # The postmaster (daemonized by pg_ctl) and whatever a dead child leaves behind become
        # our children instead of init's: we learn how they ended and reap them.
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 1)
        code = 0
        try:
            admin = self.start()
            login_url = self.url + "accounts/login/"
            status: int | None = None

            def answered() -> bool:
                """True once Daphne serves the login page (any status)."""
                nonlocal status
                status = _http_status(login_url)
                return status is not None

            self.wait_until(answered, 300, f"the site to answer at {login_url}")
            assert status is not None
            self.banner(admin, status)
            self.supervise()
        except StopRequested:
            self.say("stop requested")
        except LaunchError as exc:
            self.say(f"error: {exc}")
            code = 1
        finally:
            self.shutdown()
        self.say("stopped" if code == 0 else "stopped after an error")
        return code


def main() -> None:
    """Entry point for `python -m ragsite.launcher`."""
    try:
        launcher = Launcher()
    except LaunchError as exc:
        sys.exit(f"launch | error: {exc}")
    sys.exit(launcher.run())


if __name__ == "__main__":
    main()

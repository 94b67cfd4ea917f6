"""Start, stop and break the pieces of the scale-out topology on one machine.

Debian's PostgreSQL (with pgvector) and Redis run daemonized in their own data directories on
their own loopback ports, so a test can stop and start them like an operator would; the S3
server (s3rver), nginx, the Daphne web processes, the Celery workers and beat are children of
the process that owns the `Cluster`. Nothing here assumes a system service is running, and
nothing touches the embedded PostgreSQL/Valkey of `make run`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ragsite.launcher import _die_with_parent

ROOT = Path(__file__).resolve().parent.parent.parent
# s3rver lives here (npm install, see cluster.mk), shared by every cluster directory.
TOOLS_DIR = Path(os.environ.get("RAGSITE_CLUSTER_TOOLS") or ROOT / "var" / "cluster-tools")
S3RVER = TOOLS_DIR / "node_modules" / ".bin" / "s3rver"
# s3rver knows one account; it accepts any well-formed SigV4 signature from it.
S3_KEY = "S3RVER"
S3_BUCKET = "ragsite"
DATABASE = "ragsite"
DB_USER = "ragsite"
PG_SYSTEM_USER = "postgres"  # Debian's postgresql package creates it


class ClusterError(Exception):
    """A failure worth one clear line rather than a traceback."""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_status(url: str, timeout: float = 5) -> int | None:
    """HTTP status of GET url, or None if nothing answers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


def wait_for(check: object, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def pg_bin_dir() -> Path:
    """The newest Debian PostgreSQL whose installation has pgvector."""
    for bin_dir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        version = bin_dir.parent.name
        if Path(f"/usr/share/postgresql/{version}/extension/vector.control").exists():
            return bin_dir
    raise ClusterError(
        "no Debian PostgreSQL with pgvector found under /usr/lib/postgresql: "
        "run `make cluster-deps` (installs postgresql and builds pgvector)"
    )


def _as_postgres() -> list[str]:
    """Command prefix running a program as the postgres user (initdb/pg_ctl refuse root)."""
    if os.geteuid() != 0:
        return []
    return [
        "setpriv",
        f"--reuid={PG_SYSTEM_USER}",
        f"--regid={PG_SYSTEM_USER}",
        "--init-groups",
        "--",
    ]


def _chown_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, PG_SYSTEM_USER, PG_SYSTEM_USER)


def _open_ancestors(path: Path) -> None:
    """Let the postgres user reach a data dir under a root-only folder (e.g. mkdtemp's 0700)."""
    if os.geteuid() != 0:
        return
    for parent in path.parents:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o011)


@dataclass
class Ports:
    proxy: int = 9580
    postgres: int = 5580
    redis: int = 6580
    s3: int = 9590
    webs: int = 2

    @property
    def web(self) -> list[int]:
        return [self.proxy + 1 + i for i in range(self.webs)]

    def all(self) -> list[int]:
        return [self.proxy, *self.web, self.postgres, self.redis, self.s3]


@dataclass
class Proc:
    """A long-running child: how to start it again and where its output goes."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle: IO[bytes] = self.log.open("ab")
        try:
            self.popen = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                process_group=0,  # a Celery pool dies with its worker (killpg)
                preexec_fn=_die_with_parent(os.getpid()),
            )
        finally:
            handle.close()
        self.started_at = time.monotonic()

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the process only (not its group): what a crash or the OOM killer does."""
        if self.alive():
            assert self.popen is not None
            self.popen.send_signal(sig)

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()


@dataclass
class Cluster:
    """The whole topology under one directory. `start()` brings it up, `stop()` takes it down."""

    directory: Path
    ports: Ports = field(default_factory=Ports)
    workers: int = 2
    media: str = "s3"  # "s3", or "local": a folder under `directory` (or `media_root`)
    media_root: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    webs: list[Proc] = field(default_factory=list)
    celery: list[Proc] = field(default_factory=list)
    others: list[Proc] = field(default_factory=list)  # s3rver, nginx, beat

    def __post_init__(self) -> None:
        self.directory = self.directory.resolve()
        self.pg_bin = pg_bin_dir()
        self.pgdata = self.directory / "postgres"
        self.redis_dir = self.directory / "redis"
        self.logs = self.directory / "logs"
        self.secrets = self._load_secrets()

    # --- configuration -----------------------------------------------------------------

    def _load_secrets(self) -> dict[str, str]:
        """Passwords made once per cluster directory and kept in it (mode 0600)."""
        path = self.directory / "secrets.json"
        if path.exists():
            return dict(json.loads(path.read_text()))
        self.directory.mkdir(parents=True, exist_ok=True)
        values = {
            "postgres": secrets.token_urlsafe(18),
            "db": secrets.token_urlsafe(18),
            "redis": secrets.token_urlsafe(18),
            "django": secrets.token_urlsafe(40),
        }
        path.write_text(json.dumps(values))
        path.chmod(0o600)
        return values

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.proxy}/"

    @property
    def database_url(self) -> str:
        return (
            f"postgresql://{DB_USER}:{self.secrets['db']}@127.0.0.1:{self.ports.postgres}/"
            f"{DATABASE}?connect_timeout=3"
        )

    @property
    def redis_url(self) -> str:
        return f"redis://:{self.secrets['redis']}@127.0.0.1:{self.ports.redis}/0"

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports.s3}"

    def app_env(self) -> dict[str, str]:
        """The environment every web process, worker and manage.py command gets."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("RAGSITE_S3_", "AWS_"))
            and key not in {"DATABASE_URL", "REDIS_URL"}
        }
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "ragsite.settings",
                "PYTHONUNBUFFERED": "1",
                "HF_HUB_OFFLINE": "1",
                "OMP_NUM_THREADS": "1",
                "RAGSITE_VAR_DIR": str(self.directory / "var"),
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "SECRET_KEY": self.secrets["django"],
                "RAGSITE_BEHIND_TLS_PROXY": "false",
            }
        )
        if self.media == "s3":
            env.update(
                {
                    "RAGSITE_S3_BUCKET": S3_BUCKET,
                    "RAGSITE_S3_ENDPOINT_URL": self.s3_endpoint,
                    "RAGSITE_S3_ACCESS_KEY": S3_KEY,
                    "RAGSITE_S3_SECRET_KEY": S3_KEY,
                    "RAGSITE_S3_REGION": "us-east-1",
                }
            )
        else:
            env["MEDIA_ROOT"] = str(self.media_root or self.directory / "media")
        env.update(self.extra_env)
        return env

    # --- PostgreSQL (daemonized by pg_ctl) -------------------------------------------------

    def _pg(
        self, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_as_postgres(), str(self.pg_bin / args[0]), *args[1:]],
            check=check,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def init_postgres(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.pgdata.mkdir(parents=True, exist_ok=True)
        _open_ancestors(self.pgdata)
        _chown_postgres(self.pgdata)
        pwfile = self.directory / "pg-superuser-password"
        pwfile.write_text(self.secrets["postgres"] + "\n")
        _chown_postgres(pwfile)
        try:
            result = self._pg(
                "initdb", "-D", str(self.pgdata), "-U", "postgres", "-E", "UTF8",
                "--locale=C.UTF-8", "-A", "scram-sha-256", f"--pwfile={pwfile}", check=False,
            )  # fmt: skip
        finally:
            pwfile.unlink()
        if result.returncode != 0:
            raise ClusterError(f"initdb failed: {result.stderr.strip()}")
        conf = self.pgdata / "postgresql.conf"
        with conf.open("a") as handle:
            handle.write(
                "\n# ragsite cluster\nlisten_addresses = '127.0.0.1'\n"
                f"port = {self.ports.postgres}\nunix_socket_directories = '{self.pgdata}'\n"
                "max_connections = 200\nshared_buffers = 128MB\n"
            )

    def start_postgres(self) -> None:
        self.init_postgres()
        if self.postgres_running():
            return
        result = self._pg(
            "pg_ctl", "-D", str(self.pgdata), "-l", str(self.pgdata / "log"), "-w", "-t", "60",
            "start", check=False,
        )  # fmt: skip
        if result.returncode != 0:
            tail = (self.pgdata / "log").read_text(errors="replace")[-2000:]
            raise ClusterError(f"PostgreSQL did not start: {result.stderr.strip()}\n{tail}")

    def stop_postgres(self, mode: str = "fast") -> None:
        if self.postgres_running():
            self._pg(
                "pg_ctl", "-D", str(self.pgdata), "-m", mode, "-w", "-t", "60", "stop", check=False
            )

    def postgres_running(self) -> bool:
        return self._pg("pg_ctl", "-D", str(self.pgdata), "status", check=False).returncode == 0

    def ensure_database(self) -> None:
        """The app's role and database, and the extensions its migrations use (as superuser)."""
        import psycopg
        from psycopg import sql

        admin: dict[str, Any] = {
            "host": "127.0.0.1", "port": self.ports.postgres, "user": "postgres",
            "password": self.secrets["postgres"], "autocommit": True,
        }  # fmt: skip
        with psycopg.connect(dbname="postgres", **admin) as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [DB_USER]).fetchone():
                conn.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                        sql.Identifier(DB_USER), sql.Literal(self.secrets["db"])
                    )
                )
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]
            ).fetchone():
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(DATABASE), sql.Identifier(DB_USER)
                    )
                )
        with psycopg.connect(dbname=DATABASE, **admin) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

    # --- Redis (daemonized) ----------------------------------------------------------------

    def start_redis(self) -> None:
        if self.redis_running():
            return
        self.redis_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "redis-server", "--bind", "127.0.0.1", "--port", str(self.ports.redis),
                "--dir", str(self.redis_dir), "--daemonize", "yes",
                "--pidfile", str(self.redis_dir / "redis.pid"),
                "--logfile", str(self.redis_dir / "redis.log"),
                "--requirepass", self.secrets["redis"],
                # Queued parses survive a restart: append-only file, fsync each second.
                "--appendonly", "yes", "--save", "",
            ],
            check=True,
            timeout=30,
        )  # fmt: skip
        wait_for(self.redis_running, 15, "Redis to answer PING")

    def redis_running(self) -> bool:
        import redis

        client = redis.Redis(
            host="127.0.0.1", port=self.ports.redis, password=self.secrets["redis"],
            socket_connect_timeout=0.5, socket_timeout=0.5,
        )  # fmt: skip
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def redis_pid(self) -> int | None:
        path = self.redis_dir / "redis.pid"
        try:
            return int(path.read_text().strip())
        except (OSError, ValueError):
            return None

    def stop_redis(self) -> None:
        """SHUTDOWN (which writes the append-only file), as `systemctl stop` would."""
        pid = self.redis_pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not _pid_alive(pid), 30, "Redis to stop")

    # --- S3 (s3rver, a child) ----------------------------------------------------------------

    def start_s3(self) -> None:
        if not S3RVER.exists():
            raise ClusterError(f"{S3RVER} is missing: run `make cluster-deps` (npm install s3rver)")
        data = self.directory / "s3"
        data.mkdir(parents=True, exist_ok=True)
        proc = Proc(
            "s3 (s3rver)",
            [str(S3RVER), "-d", str(data), "-a", "127.0.0.1", "-p", str(self.ports.s3),
             "--configure-bucket", S3_BUCKET, "--no-vhost-buckets"],
            dict(os.environ),
            self.logs / "s3.log",
        )  # fmt: skip
        proc.start()
        self.others.append(proc)
        wait_for(lambda: port_open(self.ports.s3), 30, "the S3 server")

    # --- nginx (a child, in the foreground) -----------------------------------------------------

    def nginx_conf(self) -> str:
        prefix = self.directory / "nginx"
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=3s;"
            for port in self.ports.web
        )
        user = "user www-data;" if os.geteuid() == 0 else ""
        # Under /api/ even the proxy's own errors (no web process answered) are envelopes.
        api_down = (
            '{"code":500,"data":null,"message":"No web process answered (the service is '
            'restarting or overloaded); try again shortly."}'
        )
        return NGINX_CONF.format(
            user=user, prefix=prefix, servers=servers, port=self.ports.proxy, api_down=api_down
        )

    def start_nginx(self) -> None:
        prefix = self.directory / "nginx"
        for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(prefix / sub, "www-data", "www-data")
        if os.geteuid() == 0:
            _open_ancestors(prefix / "tmp")
        conf = prefix / "nginx.conf"
        conf.write_text(self.nginx_conf())
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        check = subprocess.run(
            [nginx, "-t", "-q", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True
        )
        if check.returncode != 0:
            raise ClusterError(f"nginx configuration: {check.stderr.strip()}")
        proc = Proc(
            "proxy (nginx)",
            [nginx, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
            dict(os.environ),
            self.logs / "nginx.log",
        )
        proc.start()
        self.others.append(proc)
        wait_for(lambda: port_open(self.ports.proxy), 15, "nginx")

    # --- Django processes ------------------------------------------------------------------------

    def manage(self, *args: str, timeout: float = 600) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.app_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise ClusterError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def web_proc(self, index: int) -> Proc:
        port = self.ports.web[index]
        env = {**self.app_env(), "RAGSITE_DB_POOL": "1"}
        args = [sys.executable, "-m", "daphne", "--proxy-headers", "-b", "127.0.0.1", "-p",
                str(port), "ragsite.asgi:application"]  # fmt: skip
        return Proc(
            f"web-{index + 1} (daphne :{port})", args, env, self.logs / f"web-{index + 1}.log"
        )

    def worker_proc(self, index: int) -> Proc:
        env = {**self.app_env(), "RAGSITE_EMBED_THREADS": "1"}
        args = [sys.executable, "-m", "celery", "-A", "ragsite", "worker", "-l", "info",
                "--concurrency=1", "-n", f"worker{index + 1}@%h"]  # fmt: skip
        return Proc(
            f"worker-{index + 1} (celery)", args, env, self.logs / f"worker-{index + 1}.log"
        )

    def beat_proc(self) -> Proc:
        args = [sys.executable, "-m", "celery", "-A", "ragsite", "beat", "-l", "info"]
        return Proc("beat (celery)", args, self.app_env(), self.logs / "beat.log")

    def web_ready(self, index: int) -> bool:
        return http_status(f"http://127.0.0.1:{self.ports.web[index]}/accounts/login/") is not None

    # --- the whole thing ---------------------------------------------------------------------------

    def check_ports(self) -> None:
        taken = [p for p in self.ports.all() if not port_free(p)]
        # PostgreSQL and Redis of this same directory may still run from an earlier start.
        if self.ports.postgres in taken and self.postgres_running():
            taken.remove(self.ports.postgres)
        if self.ports.redis in taken and self.redis_running():
            taken.remove(self.ports.redis)
        if taken:
            raise ClusterError(
                f"ports already in use on 127.0.0.1: {', '.join(map(str, taken))}; "
                "choose others (RAGSITE_CLUSTER_PORT, RAGSITE_CLUSTER_PG_PORT, ...)"
            )

    def start(self, say: object = print) -> None:
        """Everything, in dependency order; on failure what was started is stopped."""
        self.check_ports()
        self.logs.mkdir(parents=True, exist_ok=True)
        try:
            say(f"PostgreSQL {self.pg_bin.parent.name} on 127.0.0.1:{self.ports.postgres}")  # type: ignore[operator]
            self.start_postgres()
            self.ensure_database()
            say(f"Redis on 127.0.0.1:{self.ports.redis}")  # type: ignore[operator]
            self.start_redis()
            if self.media == "s3":
                say(f"S3 (s3rver) on {self.s3_endpoint}, bucket {S3_BUCKET}")  # type: ignore[operator]
                self.start_s3()
            say("migrate")  # type: ignore[operator]
            self.manage("migrate", "--noinput")
            say(f"{self.ports.webs} Daphne web processes, {self.workers} Celery workers, 1 beat")  # type: ignore[operator]
            self.webs = [self.web_proc(i) for i in range(self.ports.webs)]
            self.celery = [self.worker_proc(i) for i in range(self.workers)]
            beat = self.beat_proc()
            for proc in [*self.webs, *self.celery, beat]:
                proc.start()
            self.others.append(beat)
            say(f"nginx on 127.0.0.1:{self.ports.proxy}")  # type: ignore[operator]
            self.start_nginx()
            wait_for(lambda: all(self.web_ready(i) for i in range(len(self.webs))), 180, "Daphne")
            self._check_children()
        except BaseException:
            self.stop()
            raise

    def _check_children(self) -> None:
        for proc in self.children():
            if not proc.alive():
                raise ClusterError(f"{proc.name} exited; see {proc.log}")

    def children(self) -> list[Proc]:
        return [*self.webs, *self.celery, *self.others]

    def stop(self) -> None:
        """Proxy first, then the apps, then the S3 server, Redis and PostgreSQL."""
        order = [p for p in self.others if p.name.startswith("proxy")]
        order += self.webs + self.celery + [p for p in self.others if p not in order]
        for proc in order:
            if proc.alive():
                assert proc.popen is not None
                proc.popen.send_signal(signal.SIGTERM)
        for proc in order:
            proc.stop(timeout=10)
        with contextlib.suppress(ClusterError, subprocess.SubprocessError, OSError):
            self.stop_redis()
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop_postgres()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        if state == "Z":
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            return False
    return True


NGINX_CONF = """\
# Generated by ragsite.cluster: nginx in front of the Daphne web processes.
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}

http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    # RAGFlow takes uploads up to 1 GiB (RAGSITE_MAX_UPLOAD_BYTES).
    client_max_body_size 1g;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}

    upstream ragsite_web {{
{servers}
        keepalive 16;
    }}

    server {{
        listen 127.0.0.1:{port};

        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        # Streamed answers (SSE) and websockets pass through as they come.
        proxy_buffering off;
        proxy_read_timeout 3600s;
        proxy_send_timeout 3600s;
        proxy_connect_timeout 2s;
        # A web process that refuses the connection is skipped: the request goes to the next.
        proxy_next_upstream error timeout http_502;
        proxy_next_upstream_tries 3;

        location / {{
            proxy_pass http://ragsite_web;
        }}

        location /api/ {{
            proxy_pass http://ragsite_web;
            proxy_intercept_errors off;
            error_page 502 503 504 = @api_unavailable;
        }}

        location @api_unavailable {{
            default_type application/json;
            return 502 '{api_down}';
        }}
    }}
}}
"""

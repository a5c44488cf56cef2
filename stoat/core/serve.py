"""What `manage.py serve` runs: web server, django-q2 cluster and watcher, checked first."""

from __future__ import annotations

import errno
import os
import socket
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from stoat.core.startup import StartupError, ensure_data_folder
from stoat.core.supervisor import Child

# The production server `serve` runs unless told otherwise (README: "Which web server").
DEFAULT_SERVER = "granian"
SERVERS = ("granian", "gunicorn")


@dataclass(frozen=True)
class Plan:
    host: str
    port: int
    server: str  # gunicorn, granian, or runserver (--dev)
    web_workers: int
    web_threads: int
    web_only: bool = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"


def parse_addr(addr: str) -> tuple[str, int]:
    """ "8000", "0.0.0.0:8000" or "[::1]:8000" as (host, port)."""
    host, _, port = addr.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise StartupError(f"--addr {addr!r} is not host:port (e.g. 127.0.0.1:8000)")
    return host, int(port)


def django_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "django", *args]


def web_command(plan: Plan) -> list[str]:
    if plan.server == "runserver":
        # Django's development server, reloading on every code change.
        return django_command("runserver", f"{plan.host}:{plan.port}")
    if plan.server == "granian":
        return [
            *(sys.executable, "-m", "granian", "--interface", "wsgi", "--no-ws"),
            *("--host", plan.host, "--port", str(plan.port)),
            *("--workers", str(plan.web_workers)),
            *("--blocking-threads", str(plan.web_threads)),
            *("--workers-kill-timeout", "5"),
            # serve prints its own start line; granian's advice to use fewer threads than the
            # 8 the load test measured (docs/load.md) would greet every start.
            *("--log-level", "error"),
            "stoat.wsgi:application",
        ]
    bind = f"[{plan.host}]:{plan.port}" if ":" in plan.host else f"{plan.host}:{plan.port}"
    return [
        *(sys.executable, "-m", "gunicorn", "--bind", bind),
        *("--workers", str(plan.web_workers), "--threads", str(plan.web_threads)),
        *("--worker-class", "gthread", "--keep-alive", "5"),
        # A request past 30 s is stuck; on stop, requests get 5 s to finish (serve waits 8).
        *("--timeout", "30", "--graceful-timeout", "5"),
        # Its control socket would be one file in $HOME shared by every gunicorn there.
        "--no-control-socket",
        "stoat.wsgi:application",
    ]


def children(plan: Plan) -> list[Child]:
    """Every process `serve` runs, in start order: one line per process."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "stoat.settings"}
    if plan.server == "runserver":
        env.setdefault("DEBUG", "1")
    found = [
        Child(f"web server ({plan.server})", web_command(plan), env),
        Child("scan worker (qcluster)", django_command("qcluster"), env),
        # Libraries keep themselves current: one watcher per host, leases decide per library.
        Child("file watcher (watch)", django_command("watch"), env),
    ]
    return found[:1] if plan.web_only else found


def check_port_free(host: str, port: int) -> None:
    """Refuse a taken port before any child starts, with one line saying what to do."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise StartupError(f"port {port} is in use; pass --addr") from error
            raise StartupError(
                f"cannot listen on {host}:{port}: {error.strerror or error}; pass --addr"
            ) from error


def check_migrated() -> None:
    """Refuse a database that is not reachable or not fully migrated."""
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        raise StartupError(f"cannot use the database ({describe_database()}): {error}") from error
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:3])
        more = f" and {len(plan) - 3} more" if len(plan) > 3 else ""
        raise StartupError(
            f"the database has {len(plan)} unapplied migration(s) ({names}{more}); "
            "run `python manage.py migrate` first (`make run` does), then start serve again."
        )


def preflight(plan: Plan) -> None:
    """Everything that would make a child fail at once, said before any child starts."""
    ensure_data_folder(settings.STOAT_DATA_DIR)
    check_migrated()
    check_port_free(plan.host, plan.port)


def describe_database() -> str:
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        return f"sqlite {db['NAME']}"
    return f"{connection.vendor} {db.get('NAME')} on {db.get('HOST') or 'localhost'}"


def describe_broker() -> str:
    url = settings.STOAT_BROKER_URL
    if not url:
        return "orm (the database)"
    parts = urlsplit(url)
    return f"redis {parts.hostname}:{parts.port or 6379}{parts.path}"


LOOPBACK_NAMES = {"127.0.0.1", "localhost", "[::1]", "::1"}


def hosts_note(plan: Plan) -> str | None:
    """What to set when serving other machines with only this machine's names allowed."""
    allowed = set(settings.ALLOWED_HOSTS)
    if plan.host in LOOPBACK_NAMES or "*" in allowed or not allowed <= LOOPBACK_NAMES:
        return None
    example = "nas.local" if plan.host in {"0.0.0.0", "::"} else f"{plan.host},nas.local"
    return (
        "stoat: other machines get 400 Bad Request until ALLOWED_HOSTS lists the names they use "
        f"for this one, e.g. ALLOWED_HOSTS={example}"
    )


def start_line(plan: Plan) -> str:
    web = (
        "runserver (development, reloads on code changes)"
        if plan.server == "runserver"
        else f"{plan.server}, {plan.web_workers} web processes × {plan.web_threads} threads"
    )
    workers = "no scan worker" if plan.web_only else f"{settings.Q_CLUSTER['workers']} scan workers"
    return (
        f"stoat: serving {plan.url} with {web}, {workers}; database {describe_database()}; "
        f"broker {describe_broker()}; Ctrl-C stops it"
    )

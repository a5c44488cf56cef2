from __future__ import annotations

import signal
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from stoat.accounts.first_user import create_first_user
from stoat.core.serve import (
    DEFAULT_SERVER,
    SERVERS,
    Plan,
    children,
    hosts_note,
    parse_addr,
    preflight,
    start_line,
)
from stoat.core.startup import StartupError
from stoat.core.supervisor import Tree


class Command(BaseCommand):
    help = "Run the web server and the scan workers together until Ctrl-C or SIGTERM."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port to serve on")
        parser.add_argument(
            "--dev",
            action="store_true",
            help="Django's development server, reloading on code changes (DEBUG on)",
        )
        parser.add_argument(
            "--server", choices=SERVERS, default=DEFAULT_SERVER, help="the production web server"
        )
        parser.add_argument(
            "--web-only",
            action="store_true",
            help="only the web server: no scan worker, no watcher",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            host, port = parse_addr(options["addr"])
            plan = Plan(
                host=host,
                port=port,
                server="runserver" if options["dev"] else options["server"],
                web_workers=settings.STOAT_WEB_WORKERS,
                web_threads=settings.STOAT_WEB_THREADS,
                web_only=options["web_only"],
            )
            preflight(plan)
        except StartupError as error:
            # One line saying what to fix, and no child started.
            self.stderr.write(f"stoat: {error}")
            sys.exit(2)
        self.announce_first_user(plan.url)
        tree = Tree(children(plan))
        self.stdout.write(start_line(plan))
        note = hosts_note(plan)
        if note:
            self.stdout.write(note)
        self.stdout.flush()
        ended = tree.run()
        if ended is None:
            name = signal.Signals(tree.stop_signal or signal.SIGTERM).name
            self.stdout.write(f"stoat: stopped ({name})")
            return
        code = tree.exit_code(ended)
        self.stderr.write(f"stoat: the {ended.name} exited (code {code}); stopped the others")
        # Non-zero even when the child exited 0: serve never half-runs.
        sys.exit(code if code and code > 0 else 1)

    def announce_first_user(self, url: str) -> None:
        """On a fresh install, make the administrator and print its password this one time."""
        try:
            created = create_first_user()
        except DatabaseError:
            self.stderr.write("The database is not ready: run `python manage.py migrate` first.")
            return
        if created is None:
            return
        username, password = created
        self.stdout.write(
            self.style.SUCCESS(
                f"\nNo user existed, so stoat made one. Sign in at {url} with\n"
                f"    user name: {username}\n    password:  {password}\n"
                "This password is shown only now: change it under Admin → Users after signing in.\n"
            )
        )

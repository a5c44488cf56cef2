from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from stoat.accounts.first_user import create_first_user


class Command(BaseCommand):
    help = "Run the web server and a django-q2 worker together until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port to serve on")
        parser.add_argument(
            "--web-only", action="store_true", help="do not start a worker beside the web server"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.announce_first_user(options["addr"])
        manage = [sys.executable, "-m", "django"]
        commands = [[*manage, "runserver", "--noreload", options["addr"]]]
        if not options["web_only"]:
            commands.append([*manage, "qcluster"])
        children = [subprocess.Popen(command) for command in commands]
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        self.stdout.write(f"stoat is running at http://{options['addr']}/ (Ctrl-C stops it)")
        try:
            # One child ending (a crash) takes the others down, so nothing half-runs unnoticed.
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.2)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        for child in children:
            if child.poll() is None:
                # SIGTERM: children of a backgrounded shell job ignore SIGINT.
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        codes = [child.returncode for child in children]
        if not stopping and any(codes):
            sys.exit(max(abs(code) for code in codes))

    def announce_first_user(self, addr: str) -> None:
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
                f"\nNo user existed, so stoat made one. Sign in at http://{addr}/ with\n"
                f"    user name: {username}\n    password:  {password}\n"
                "This password is shown only now: change it under Admin → Users after signing in.\n"
            )
        )

#!/usr/bin/env python3
"""Django's command-line entry point for stoat."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stoat.settings")
    from django.core.management import execute_from_command_line

    from stoat.core.startup import StartupError

    try:
        execute_from_command_line(sys.argv)
    except StartupError as error:
        # Something for the person running stoat to fix: the message, not a traceback.
        sys.exit(f"stoat: {error}")


if __name__ == "__main__":
    main()

"""The program's entry point: ``music-explorer`` and ``python -m explorer``; also the bundle's entry script.

A command line with a subcommand runs the headless CLI (:mod:`explorer.cli.main`); anything else opens
the window (:mod:`explorer.app`).  This module is the one place that may reach both: the CLI itself
never imports Qt.
"""

import multiprocessing
import os
import sys


def no_display() -> str | None:
    """Why the window cannot open on this machine (no X11 or Wayland display to draw on), or None.

    Qt would abort the process with a paragraph about platform plugins; one line says what to do.
    Only on X11/Wayland systems, and never when ``QT_QPA_PLATFORM`` chooses a platform.
    """
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")) or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.exists(os.path.join(runtime, "wayland-0")):  # Wayland's default socket
        return None
    return (
        "no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set); "
        "the commands work without one: music-explorer --help"
    )


def gui(paths: list[str]) -> int:
    """Open the window on ``paths`` and run it until it is closed; the exit status."""
    reason = no_display()
    if reason is not None:
        print(f"music-explorer: error: {reason}", file=sys.stderr)
        return 1
    from explorer.app import main as app_main

    return app_main(paths)


def main(argv: list[str] | None = None) -> int:
    """The exit status of the command line ``argv`` (default ``sys.argv[1:]``)."""
    from explorer.entry import run_multiprocessing_child

    run_multiprocessing_child(argv)  # a child that multiprocessing started never becomes the GUI or the CLI
    from explorer.cli.main import main as cli_main

    return cli_main(argv, gui=gui)


if __name__ == "__main__":  # not when multiprocessing re-runs the main script as __mp_main__ in a child
    # First thing: in the frozen app every multiprocessing child starts here; it does its work and exits.
    multiprocessing.freeze_support()
    sys.exit(main())

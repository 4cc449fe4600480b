"""The program's entry point: ``music-explorer`` and ``python -m explorer``; also the bundle's entry script.

A command line with a subcommand runs the headless CLI (:mod:`explorer.cli.main`); anything else opens
the window (:mod:`explorer.app`).  This module is the one place that may reach both: the CLI itself
never imports Qt.
"""

import multiprocessing
import sys


def gui(paths: list[str]) -> int:
    """Open the window on ``paths`` and run it until it is closed; the exit status."""
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

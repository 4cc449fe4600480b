"""``python -m explorer`` is the same as the ``music-explorer`` command; it is also the bundle's entry script."""

import multiprocessing
import sys

if __name__ == "__main__":  # not when multiprocessing re-runs the main script as __mp_main__ in a child
    # First thing: in the frozen app every multiprocessing child starts here; it does its work and exits.
    multiprocessing.freeze_support()
    from explorer.cli import main

    sys.exit(main())

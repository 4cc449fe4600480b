"""``python -m explorer`` is the same as the ``music-explorer`` command."""

import sys

from explorer.cli import main

sys.exit(main())

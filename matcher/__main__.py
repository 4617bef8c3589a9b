"""`python -m matcher` runs the command line."""

import sys

from matcher.cli import main

if __name__ == "__main__":
    # Guarded: the service's worker processes (spawned) import this module as `__mp_main__`.
    sys.exit(main())

"""`python -m matcher` runs the command line."""

import sys

from matcher.cli import main

sys.exit(main())

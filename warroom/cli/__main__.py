"""`python -m warroom.cli`: the same as the `warroom` command."""

import sys

from warroom.cli.main import main

sys.exit(main())

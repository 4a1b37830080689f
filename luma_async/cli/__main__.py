"""`python -m luma_async.cli`: the same as the `luma-async` command."""

import sys

from . import main

sys.exit(main())

"""`python -m addin.cli`: the funnelplan command."""

import sys

from addin.cli.main import main

sys.exit(main())

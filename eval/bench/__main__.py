"""`python -m eval.bench`: the same as `briefing bench` (and the latency worker's entry point)."""

import sys

from eval.bench import main

sys.exit(main())

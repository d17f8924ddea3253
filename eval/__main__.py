"""`python -m eval`: the same as `briefing eval`."""

from eval.cli import main

raise SystemExit(main())

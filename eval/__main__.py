"""`python -m eval`: the same as `briefing eval`."""

from eval.run import main

raise SystemExit(main())

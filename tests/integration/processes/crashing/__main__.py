"""A process that dies at once, for the supervisor's tests."""

raise SystemExit(3)

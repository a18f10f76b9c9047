"""The web console: the people's front door to Bilan (server-rendered French HTML)."""

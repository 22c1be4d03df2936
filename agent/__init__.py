"""Scribe, the agent: configuration, workspace, command line."""

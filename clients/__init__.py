"""Clients and what the team knows about them: engagements, people, history, timeline."""

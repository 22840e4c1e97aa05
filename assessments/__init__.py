"""Questionnaires, their versions, and (later) assessments and their results."""

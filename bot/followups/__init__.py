"""Automatic follow-ups: the survey dialog, the scheduler that claims due rows, and tasks."""

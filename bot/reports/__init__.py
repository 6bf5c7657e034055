"""What managers see (issue 13): service figures for a period, per-agent scorecards, charts and
exports, every number traceable to its tickets. Streams the database; see stages.py for how each
stage of a ticket is read from its history."""

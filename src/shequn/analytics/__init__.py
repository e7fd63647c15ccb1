"""Analytics over the event log with DuckDB: funnel, retention, group health, source ROI,
Orbit levels, KOL board, persona, moderation and points figures, each with a chart."""

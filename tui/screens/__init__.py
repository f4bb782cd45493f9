"""Drill-down, scorecard and alert screens opened from the dashboard."""

"""KPIs, diagnosis rules and findings, graded against cited thresholds."""

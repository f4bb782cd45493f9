"""Typed, immutable facts and their vocabulary: values, units, statuses, snapshots, findings."""

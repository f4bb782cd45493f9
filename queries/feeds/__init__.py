"""The one data path: the feed registry, live and replayed sources, snapshots, recordings."""

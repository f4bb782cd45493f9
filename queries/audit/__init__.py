"""The tuning and sizing audit: the cluster's settings against the seed guide and upstream docs."""

"""Kube-API access: the connection, list/watch feed, slim records and their stores."""

"""Prometheus access: the PromQL catalog, the HTTP client, discovery and the fact builders."""

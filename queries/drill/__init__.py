"""Drill-down data: histories and details for one API verb, etcd member, node or pod."""

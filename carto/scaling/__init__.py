"""Scaling past one process and one database: read replicas, read-your-writes routing."""

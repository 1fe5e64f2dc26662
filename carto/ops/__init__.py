"""Operating a deployment for years: backups that restore, metrics, `carto doctor`.

Wiring level: it reads the whole database and every package's state, and nothing
below imports it.
"""

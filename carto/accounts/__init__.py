"""Users, roles and access tokens."""

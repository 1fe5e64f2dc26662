"""API clients: Open311 `api_key`s as data, each scoped to an authority or some of its services."""

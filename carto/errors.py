"""One error tree for the whole product, and one map from it to HTTP statuses.

Services raise these (never `HTTPException`); the app registers one handler.
`message` is safe to show to the user (French); `detail` goes to the logs only.
"""

from __future__ import annotations

from typing import Any


class CartoError(Exception):
    """Base of every expected failure. `message` is user-safe, `detail` is for logs."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, detail: str | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.extra = extra


class InvalidInput(CartoError):
    status_code = 422
    code = "invalid_input"


class OutsideTerritory(InvalidInput):
    code = "outside_territory"


class NotAuthenticated(CartoError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(CartoError):
    status_code = 403
    code = "forbidden"


class NotFound(CartoError):
    status_code = 404
    code = "not_found"


class Conflict(CartoError):
    status_code = 409
    code = "conflict"


class TooLarge(CartoError):
    status_code = 413
    code = "too_large"


class RateLimited(CartoError):
    status_code = 429
    code = "rate_limited"


class EmbeddedClusterError(CartoError):
    """The private PostgreSQL cluster could not be set up or driven."""

    status_code = 503
    code = "database_unavailable"


class ImportFailed(CartoError):
    """A territory or layer file could not be read or understood."""

    code = "import_failed"


def is_data_error(exc: BaseException) -> bool:
    """A value PostgreSQL or the driver cannot take (SQLSTATE class 22: out of range,
    invalid text representation...): the client's input, not our failure."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        err = stack.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        sqlstate = str(getattr(err, "sqlstate", "") or "")
        if type(err).__name__ == "DataError" or sqlstate.startswith("22"):
            return True
        stack += [err.__cause__, getattr(err, "orig", None)]
    return False

"""Imports every model module so that `Base.metadata` knows all tables (Alembic, tests)."""

from carto.accounts import models as accounts_models  # noqa: F401
from carto.apiclients import models as apiclients_models  # noqa: F401
from carto.concertations import models as concertations_models  # noqa: F401
from carto.concertations import participation_models  # noqa: F401
from carto.db import Base
from carto.idempotency import IdempotencyRecord  # noqa: F401
from carto.media import models as media_models  # noqa: F401
from carto.notifications import models as notifications_models  # noqa: F401
from carto.ratelimit import RateCounter  # noqa: F401
from carto.rounds import models as rounds_models  # noqa: F401
from carto.routing import contact_models  # noqa: F401
from carto.routing import models as routing_models  # noqa: F401
from carto.routing import streets as streets_models  # noqa: F401
from carto.signalements import models as signalements_models  # noqa: F401
from carto.signalements import orientation_models  # noqa: F401
from carto.territories import models as territories_models  # noqa: F401
from carto.territories import national_models  # noqa: F401

metadata = Base.metadata

"""Photos shared by signalements and concertations: verify, strip metadata, re-encode, store.

Colleagues call `store_photo` and `read_upload` (see `service.py`, `upload.py`).
"""

from carto.media.service import PhotoRef, store_photo
from carto.media.upload import read_upload

__all__ = ["PhotoRef", "read_upload", "store_photo"]

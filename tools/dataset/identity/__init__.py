"""Character identity backends: find faces/figures in a frame and embed them for matching."""
from tools.dataset.identity.backend import IdentityBackend, Region, get_backend, match_regions

__all__ = ["IdentityBackend", "Region", "get_backend", "match_regions"]

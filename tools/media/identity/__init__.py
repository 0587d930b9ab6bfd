"""Character identity backends: find faces/figures in a frame and embed them for matching."""
from tools.dataset.identity.backend import (
                                            BackendChoice,
                                            IdentityBackend,
                                            Region,
                                            choose_backend,
                                            get_backend,
                                            match_regions,
                                            threshold_for,
)

__all__ = ["BackendChoice", "IdentityBackend", "Region", "choose_backend", "get_backend", "match_regions",
           "threshold_for"]

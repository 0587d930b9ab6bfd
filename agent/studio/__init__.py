"""The web studio and HTTP API over the same Agent (`animstudio serve`, docs/studio.md)."""
from agent.studio.app import create_app, serve

__all__ = ["create_app", "serve"]

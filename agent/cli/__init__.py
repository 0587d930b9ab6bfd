"""Command-line interface: `animstudio` (typer + rich)."""

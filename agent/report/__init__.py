"""The HTML run report (runs/<id>/report.html): request, answer, plan diagram, scores, media, evidence, trace."""
from agent.report.html_report import build_context, render_report

__all__ = ["build_context", "render_report"]

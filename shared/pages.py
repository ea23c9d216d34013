"""Jinja2 for a service's public HTML pages (autoescaped)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape


def page_templates(service_file: str) -> Environment:
    """Returns the template environment of the `templates/` folder beside a service module."""
    return Environment(
        loader=FileSystemLoader(Path(service_file).parent / "templates"),
        autoescape=select_autoescape(["html"]),
    )

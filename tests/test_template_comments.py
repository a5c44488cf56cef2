"""Django's `{# #}` comments end on the line they start on; one that runs on is shown as text."""

from __future__ import annotations

from stoat.settings import BASE_DIR


def test_every_one_line_comment_ends_on_its_line() -> None:
    unclosed = [
        f"{template.relative_to(BASE_DIR)}:{number}"
        for template in sorted((BASE_DIR / "templates").rglob("*.html"))
        for number, line in enumerate(template.read_text().splitlines(), start=1)
        if line.count("{#") > line.count("#}")
    ]
    assert unclosed == [], "use {% comment %} for comments of several lines"

"""`{% url_of %}` writes the addresses Django's `{% url %}` writes."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse, set_script_prefix

from stoat.core.templatetags.stoat_urls import around_id


def rendered(name: str, pk: int) -> str:
    return Template("{% load stoat_urls %}{% url_of name pk %}").render(
        Context({"name": name, "pk": pk})
    )


@pytest.mark.parametrize("name", ["library:video", "library:thumbnail", "scans:job"])
@pytest.mark.parametrize("pk", [1, 42, 987_654_321, 10**12])
def test_url_of_is_the_address_django_reverses(name: str, pk: int) -> None:
    assert rendered(name, pk) == reverse(name, args=[pk])


def test_url_of_follows_the_script_prefix_of_a_site_served_under_a_path() -> None:
    set_script_prefix("/stoat/")
    try:
        assert rendered("library:video", 7) == reverse("library:video", args=[7])
        assert rendered("library:video", 7).startswith("/stoat/")
    finally:
        set_script_prefix("/")
    assert rendered("library:video", 7) == reverse("library:video", args=[7])
    assert not rendered("library:video", 7).startswith("/stoat/")


def test_a_name_whose_address_has_no_id_is_refused() -> None:
    with pytest.raises(NoReverseMatch):
        around_id("library:index", "/", settings.ROOT_URLCONF)

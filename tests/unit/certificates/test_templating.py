"""Tenant templates are checked at upload: unknown placeholders and unsafe code are named."""

from __future__ import annotations

import pytest

from services.certificates.templating import TemplateRefused, check_logo, check_template

GOOD = "<p>{{ c.participant_name }} {{ c['number'] }} {{ issued_on }}</p>{{ qr_svg }}"


def test_a_template_using_only_known_placeholders_is_accepted() -> None:
    check_template(GOOD)
    check_template("{% if logo %}<img src='{{ logo }}'>{% endif %}{{ c.school | upper }}")


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("{{ c.nama }}", "c.nama"),
        ("{{ c['sekolah'] }}", "c.sekolah"),
        ("{{ tanggal }} dan {{ c.number }}", "tanggal"),
        ("{% for x in peserta %}{{ x }}{% endfor %}", "peserta"),
    ],
)
def test_an_unknown_placeholder_is_refused_with_its_name(source: str, named: str) -> None:
    with pytest.raises(TemplateRefused) as refused:
        check_template(source)
    assert named in refused.value.message
    assert refused.value.field == "html"


def test_code_the_sandbox_forbids_is_refused_at_upload_not_at_render() -> None:
    with pytest.raises(TemplateRefused, match="tidak diizinkan"):
        check_template("{{ c.participant_name.__class__.__mro__ }}")


def test_a_broken_template_names_its_line() -> None:
    with pytest.raises(TemplateRefused, match="baris 2"):
        check_template("<p>\n{% if %}</p>")


def test_a_logo_must_be_a_small_image_data_url() -> None:
    check_logo("data:image/png;base64,iVBORw0KGgo=")
    with pytest.raises(TemplateRefused) as refused:
        check_logo("https://example.org/logo.png")
    assert refused.value.field == "logo"

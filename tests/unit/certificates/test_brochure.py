"""What the brochure and sticker print, from a tenant file, without rendering."""

from __future__ import annotations

from services.certificates.brochure import office_hours, wa_me_url


def test_wa_me_links_take_international_digits_only() -> None:
    assert wa_me_url("+62 859-3387-1047") == "https://wa.me/6285933871047"
    assert wa_me_url("0859 3387 1047") == "https://wa.me/6285933871047"


def test_office_hours_are_listed_monday_first_and_a_closed_day_says_libur() -> None:
    facts = {"office_hours": {"saturday": None, "monday": ["08:00", "16:00"]}}
    assert office_hours(facts) == [("Senin", "08:00 - 16:00"), ("Sabtu", "Libur")]
    assert office_hours({}) == []

"""One way of writing a day or a moment (core/dates.py): business time whatever the server's clock, the same on
every screen, and no template with a date pattern of its own."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

from django.template import Context, Template
from django.utils import translation

from core.dates import ymd, ymd_hm, ymd_hms

ROOT = Path(__file__).resolve().parents[2]


def test_a_moment_is_written_in_business_time():
    # given 22:44 UTC on 3 December, which is 07:44 on 4 December in Seoul
    moment = datetime(2026, 12, 3, 22, 44, 5, tzinfo=UTC)
    # then every form says the Seoul day, in Korean and in English alike
    for language in ("ko", "en"):
        with translation.override(language):
            assert (ymd(moment), ymd_hm(moment), ymd_hms(moment)) == (
                "2026-12-04", "2026-12-04 07:44", "2026-12-04 07:44:05")
    assert ymd(date(2026, 10, 12)) == "2026-10-12"
    assert ymd(None) == ymd_hm(None) == ""


def test_templates_write_dates_through_the_filters():
    # given a template using the filters, and an empty value that falls back to its default
    rendered = Template('{% load dates %}{{ at|ymd_hms }} · {{ at|ymd }} · {{ missing|ymd_hm|default:"-" }}').render(
        Context({"at": datetime(2026, 12, 3, 22, 44, 5, tzinfo=UTC), "missing": None}))
    assert rendered == "2026-12-04 07:44:05 · 2026-12-04 · -"


def test_no_template_has_a_date_pattern_of_its_own():
    # a literal pattern (|date:"Y/m/d") is how "2026/10/12" came to stand beside "2026-10-12"
    own = [f"{path.relative_to(ROOT)}: {match}" for folder in ("templates", "cms_pages", "portal", "mileage")
           for path in (ROOT / folder).rglob("*.html")
           for match in re.findall(r'\|date:"[^"]*"', path.read_text(encoding="utf-8"))]
    assert not own, "write dates with |ymd, |ymd_hm or |ymd_hms (core/dates.py):\n" + "\n".join(own)

"""Moderation, topic and automatic-answer rules, in Indonesian, Javanese and obfuscated text."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.consultation import answers, moderation, topics
from services.consultation.config import tenant_config
from shared.tenants import load_tenant_file

TENANT_FILE = Path(__file__).parents[3] / "deploy" / "tenants" / "mojosari.yaml"
CONFIG = tenant_config(load_tenant_file(TENANT_FILE))
LISTS = CONFIG.word_lists


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("dasar kafir semua kalian", "sara"),
        ("k4f1r", "sara"),
        ("kaaaaafiiiiir", "sara"),
        ("k a f i r", "sara"),
        ("K.A.F.I.R!!", "sara"),
        ("dasar cino asu", "sara"),  # Javanese
        ("SEBARKAN SEBELUM DIHAPUS: ktp akan diblokir", "hoaks"),
        ("iki wis viral, sebarno nang grup", "hoaks"),  # Javanese
        ("ada video b0k3p ga", "pornografi"),
        ("b o k e p", "pornografi"),
        ("ngeeeewe yuk", "pornografi"),
        ("fotone wudo", "pornografi"),  # Javanese
    ],
)
def test_offensive_text_is_caught_through_obfuscation(text: str, category: str) -> None:
    assert moderation.moderate(text, LISTS) == category


@pytest.mark.parametrize(
    "text",
    [
        "syarat pecah KK apa saja?",
        "bikin akta lahir bawa apa",
        "kafe di dekat kecamatan buka jam berapa",  # 'kafe' is not 'kafir'
        "kakak saya mau pindah ke Surabaya",
        "sugeng enjing, badhe tanglet babagan KTP",
        "porsi makan siang",
        "saya pendatang baru",
    ],
)
def test_ordinary_questions_pass_moderation(text: str) -> None:
    assert moderation.moderate(text, LISTS) is None


def test_refusal_quotes_the_group_rules() -> None:
    text = moderation.refusal_text("sara", CONFIG.rule_lines)
    assert "SARA" in text
    assert "Dilarang SARA, hoaks dan pornografi" in text
    assert "Grup hanya untuk konsultasi Adminduk" in text


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("syarat pecah KK apa saja?", "KK"),
        ("bikin akta lahir bawa apa", "Akta"),
        ("mbah kula seda, ngurus akte kematian piye carane", "Akta"),  # Javanese
        ("KK ku ilang, kudu nggowo opo?", "KK"),  # Javanese
        ("anak saya butuh kartu identitas anak", "KIA"),
        ("mau boyongan ke Mojokerto", "Pindah"),  # Javanese: moving house
        ("cara aktivasi IKD gimana", "IKD"),
        ("e-KTP saya rusak", "KTP"),
        ("nik saya tidak terdaftar di dukcapil", "Lainnya"),
        ("halo kak, apa kabar?", None),
        ("jual pulsa murah", None),
    ],
)
def test_topic_is_picked_by_keyword_rules(text: str, topic: str | None) -> None:
    assert topics.detect_topic(text) == topic


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("syarat pecah KK apa saja?", True),
        ("bikin akta lahir bawa apa", True),
        ("KK ku ilang, kudu nggowo opo?", True),
        ("akte lair syarate opo wae", True),
        ("KTP saya sudah jadi belum ya?", False),
        ("MENTOR", False),
    ],
)
def test_requirement_questions_are_recognised(text: str, asks: bool) -> None:
    assert topics.asks_requirements(text) is asks


def test_the_automatic_answer_lists_the_checklist_hours_address_and_mentor_offer() -> None:
    chosen = answers.pick_requirements("syarat pecah KK apa saja?", "KK", CONFIG.catalogue)
    assert [r.id for r in chosen] == ["kk-pecah"]
    text = answers.requirement_answer(
        chosen, raw=CONFIG.raw, tenant_name=CONFIG.tenant.name, address=CONFIG.tenant.address
    )
    assert "Persyaratan Pecah KK:" in text
    assert "1. KK Asli" in text
    assert "2. Fotokopi Surat Nikah/Akta Cerai" in text
    assert "Senin 08:00-16:00" in text and "Jumat 07:00-14:00" in text and "Sabtu libur" in text
    assert "Jl. Hayam Wuruk No. 37A" in text
    assert "Balas MENTOR" in text


def test_javanese_death_certificate_question_gets_the_death_checklist() -> None:
    text = "mbah kula seda, ngurus akte kematian piye carane"
    chosen = answers.pick_requirements(text, "Akta", CONFIG.catalogue)
    assert [r.id for r in chosen] == ["akta-kematian-baru"]


def test_a_topic_without_a_hint_answers_every_procedure_of_the_topic() -> None:
    chosen = answers.pick_requirements("syarat KTP apa", "KTP", CONFIG.catalogue)
    assert {r.id for r in chosen} == {"ktp-rusak", "ktp-hilang", "ktp-pemula"}


def test_mentor_and_rating_replies_are_recognised() -> None:
    assert topics.wants_mentor(" Mentor ")
    assert not topics.wants_mentor("mentor saya siapa")
    assert topics.rating("5") == 5
    assert topics.rating("6") is None
    assert topics.rating("lima") is None

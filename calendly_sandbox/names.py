# ruff: noqa: RUF001 - non-ASCII look-alike letters are the point of this file
"""Seed vocabulary for generated data: deliberately multilingual and non-ASCII."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

FIRST_NAMES = (
    "José",
    "Zoë",
    "Łukasz",
    "Søren",
    "François",
    "Ayşe",
    "Μαρία",
    "Ольга",
    "محمد",
    "太郎",
    "Anaïs",
    "Björn",
    "Chloé",
    "Dmitri",
    "Émilie",
    "Fatima",
    "Grace",
    "Hiroshi",
    "Inés",
    "Jürgen",
    "Kateřina",
    "Liam",
    "Mónica",
    "Nguyễn",
    "Oğuz",
    "Priya",
    "Quentin",
    "Renée",
    "Siobhán",
    "Tomás",
    "Uxía",
    "Valentina",
    "Wojciech",
    "Xiomara",
    "Yusuf",
    "Zuzana",
    "Ana",
    "Ben",
    "Carla",
    "David",
)
LAST_NAMES = (
    "Muñoz",
    "Ångström",
    "Wróbel",
    "Kierkegård",
    "Déjà",
    "Yılmaz",
    "Παπαδοπούλου",
    "Иванова",
    "علي",
    "山田",
    "O'Brien",
    "Núñez",
    "Schröder",
    "Dvořák",
    "Łęcka",
    "García",
    "Smith",
    "Müller",
    "Kowalski",
    "Rossi",
    "Novák",
    "Tanaka",
    "Haddad",
    "Okafor",
    "Lindqvist",
    "Þórsdóttir",
    "van der Berg",
    "Ng",
    "Costa",
    "Petrović",
)
COMPANIES = ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell")
TIMEZONES = (
    "America/New_York",
    "Europe/Berlin",
    "Asia/Tokyo",
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Africa/Lagos",
    "Europe/Warsaw",
)
EVENT_TYPE_NAMES = (
    "Intro call",
    "Product demo",
    "Office hours",
    "Onboarding workshop",
    "Quarterly review",
    "Coffee chat ☕",
    "Entrevista técnica",
    "Beratungsgespräch",
    "Rendez-vous découverte",
    "Support session",
    "Team sync",
    "Webinar: what's new",
    "面談",
    "Sales discovery",
)
GROUP_NAMES = ("Sales", "Customer Success", "Engineering", "Recruiting", "Support", "Marketing")
ROUTING_FORM_NAMES = ("Contact sales", "Demo request", "Support triage", "Partner inquiry")
UTM_SOURCES = ("google", "newsletter", "linkedin", "partner", "twitter")
UTM_MEDIUMS = ("cpc", "email", "social", "referral")
UTM_CAMPAIGNS = ("spring_launch", "q3-webinar", "retargeting", "été-2026")
CANCEL_REASONS = (
    "Conflict with another meeting",
    "Feeling unwell 🤒",
    "No longer needed",
    "Je dois reporter",
    None,
)
QUESTIONS = (
    ("What would you like to discuss?", "text"),
    ("Company size", "single_select"),
    ("Phone number", "phone_number"),
    ("Which products interest you?", "multi_select"),
)
ANSWERS = {
    "text": ("Pricing for 50 seats", "Integración con Salesforce", "Onboarding questions", "—"),
    "single_select": ("1-10", "11-50", "51-200", "201+"),
    "phone_number": ("+1 415 555 0100", "+49 30 901820", "+81 3-1234-5678"),
    "multi_select": ("Scheduling\nRouting", "Workflows", "Analytics"),
}


@lru_cache(maxsize=4096)
def slugify(text: str, fallback: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = "-".join("".join(c if c.isalnum() else " " for c in ascii_text.lower()).split())
    return slug or fallback

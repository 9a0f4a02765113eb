"""A synthetic, reproducible population: plausible profiles, activity and purchases from a seeded generator.

Distributions are rough but realistic in shape: ages 18-90 peaking in the forties, household sizes as in
European censuses, a long-tailed (Zipf-like) item popularity, log-normal basket sizes, and sensitive fields
filled in only by a minority, as people do.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

FEMALE = ("Anna", "Maria", "Sofia", "Emma", "Julia", "Lea", "Clara", "Ines", "Marta", "Eva", "Nora", "Alice")
MALE = ("Lukas", "Jan", "Paul", "Marco", "David", "Tomas", "Luca", "Felix", "Hugo", "Pedro", "Noah", "Leo")
NEUTRAL = ("Alex", "Sam", "Robin", "Kim", "Charlie", "Andrea")
FAMILY = (
    "Müller", "Schmidt", "García", "Rossi", "Novak", "Dubois", "Jansen", "Nowak", "Silva", "Horvat",
    "Berg", "Weber", "Costa", "Martin", "Kowalski", "Lindqvist", "Moreau", "Ferrari", "Bakker", "Popescu",
)  # fmt: skip
# (city, postal code prefix, country, latitude, longitude, language)
PLACES = (
    ("Berlin", "10", "DE", 52.52, 13.40, "de"),
    ("Hamburg", "20", "DE", 53.55, 9.99, "de"),
    ("Paris", "75", "FR", 48.86, 2.35, "fr"),
    ("Lyon", "69", "FR", 45.76, 4.84, "fr"),
    ("Madrid", "28", "ES", 40.42, -3.70, "es"),
    ("Milano", "20", "IT", 45.46, 9.19, "it"),
    ("Amsterdam", "10", "NL", 52.37, 4.90, "nl"),
    ("Warszawa", "00", "PL", 52.23, 21.01, "pl"),
    ("Lisboa", "11", "PT", 38.72, -9.14, "pt"),
    ("Wien", "10", "AT", 48.21, 16.37, "de"),
)
OCCUPATIONS = (
    "teacher", "nurse", "software developer", "electrician", "accountant", "student", "retired",
    "shop assistant", "engineer", "chef", "designer", "physician", "driver", "civil servant", "farmer",
)  # fmt: skip
INTERESTS = (
    "cooking", "cycling", "running", "hiking", "photography", "gardening", "gaming", "reading", "travel",
    "music", "films", "football", "yoga", "fashion", "technology", "home improvement", "wine", "pets",
    "parenting", "investing", "art", "theatre", "cars", "camping", "baking",
)  # fmt: skip
BRANDS = ("Nordlicht", "Veloce", "Casa Bella", "Urbanista", "Greenleaf", "Polar Peak", "Lumen", "Atelier 9")
HEALTH = ("asthma", "diabetes type 2", "hay fever", "coeliac disease", "hypertension", "migraine")
DIETS = ("gluten-free", "lactose-free", "low sodium", "nut allergy")
RELIGIONS = ("christianity", "islam", "judaism", "buddhism", "none")
POLITICS = ("centre-left", "centre-right", "green", "liberal", "prefer a private ballot")
LIFE_EVENTS = ("moved_home", "married", "new_child", "new_job", "graduated", "bought_home", "bought_car")
CATALOG_SIZE = 500
SEARCHES = ("rain jacket", "running shoes", "coffee grinder", "gift for dad", "tent 2 person", "usb-c cable")


def _weighted(rng: random.Random, options: dict[Any, float]) -> Any:
    return rng.choices(list(options), weights=list(options.values()))[0]


def _item(rng: random.Random) -> str:
    # Zipf-like popularity: a few items are seen and bought far more often than the long tail.
    rank = min(CATALOG_SIZE, int(rng.paretovariate(1.1)))
    return f"sku:{rank:05d}"


def profile(rng: random.Random, today: date) -> dict[str, Any]:
    gender = _weighted(rng, {"female": 0.49, "male": 0.48, "non_binary": 0.02, "prefer_not_to_say": 0.01})
    names = {"female": FEMALE, "male": MALE}.get(gender, NEUTRAL)
    age = int(rng.triangular(18, 90, 42))
    birth = today - timedelta(days=age * 365 + rng.randrange(365))
    city, prefix, country, lat, lon, language = rng.choice(PLACES)
    household = _weighted(rng, {1: 0.30, 2: 0.34, 3: 0.15, 4: 0.13, 5: 0.06, 6: 0.02})
    income = _weighted(
        rng,
        {
            "under_20k": 0.15,
            "20k_40k": 0.30,
            "40k_60k": 0.25,
            "60k_100k": 0.20,
            "100k_150k": 0.07,
            "over_150k": 0.03,
        },
    )
    values: dict[str, Any] = {
        "given_name": rng.choice(names),
        "family_name": rng.choice(FAMILY),
        "birth_date": birth.isoformat(),
        "gender": gender,
        "postal_code": prefix + f"{rng.randrange(1000):03d}",
        "city": city,
        "country": country,
        "household_size": household,
        "occupation": "retired" if age >= 67 else ("student" if age < 23 else rng.choice(OCCUPATIONS)),
        "income_band": income,
        "interests": rng.sample(INTERESTS, rng.randint(1, 6)),
        "preferred_channels": rng.sample(["email", "sms", "post", "app"], rng.randint(1, 2)),
        "language": language,
    }
    if rng.random() < 0.6:
        values["phone"] = f"+{rng.randint(30, 49)} {rng.randint(100, 999)} {rng.randint(100000, 9999999)}"
    if rng.random() < 0.3:
        values["preferred_brands"] = rng.sample(BRANDS, rng.randint(1, 3))
    if rng.random() < 0.35:
        values["life_events"] = [
            {"kind": kind, "date": (today - timedelta(days=rng.randrange(1, 1500))).isoformat()}
            for kind in rng.sample(LIFE_EVENTS, rng.randint(1, 2))
        ]
    # Sensitive categories: a minority shares them.
    if rng.random() < 0.10:
        values["home_location"] = {
            "latitude": round(lat + rng.uniform(-0.08, 0.08), 5),
            "longitude": round(lon + rng.uniform(-0.08, 0.08), 5),
        }
    if rng.random() < 0.08:
        values["health_conditions"] = rng.sample(HEALTH, rng.randint(1, 2))
    if rng.random() < 0.05:
        values["dietary_requirements"] = rng.sample(DIETS, 1)
    if rng.random() < 0.05:
        values["religion"] = rng.choice(RELIGIONS)
    if rng.random() < 0.03:
        values["political_opinion"] = rng.choice(POLITICS)
    if rng.random() < 0.10:
        values["net_worth_band"] = rng.choice(["under_10k", "10k_100k", "100k_500k", "over_500k"])
    return values


def activity(rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    """Views, searches, cart changes, ratings and purchases over the last two years, oldest first."""
    records: list[dict[str, Any]] = []

    def at() -> str:
        return (now - timedelta(seconds=rng.randrange(1, 730 * 86_400))).astimezone(UTC).isoformat()

    for _ in range(int(rng.expovariate(1 / 25))):
        records.append({"kind": "view", "occurred_at": at(), "item": _item(rng)})
    for _ in range(int(rng.expovariate(1 / 6))):
        records.append({"kind": "search", "occurred_at": at(), "query": rng.choice(SEARCHES)})
    for _ in range(int(rng.expovariate(1 / 5))):
        item = _item(rng)
        records.append({"kind": "cart_add", "occurred_at": at(), "item": item, "quantity": rng.randint(1, 3)})
        if rng.random() < 0.3:
            records.append({"kind": "cart_remove", "occurred_at": at(), "item": item})
    for _ in range(int(rng.expovariate(1 / 2))):
        value = _weighted(rng, {5: 0.45, 4: 0.30, 3: 0.12, 2: 0.06, 1: 0.07})
        records.append({"kind": "rating", "occurred_at": at(), "item": _item(rng), "value": value})
    for _ in range(int(rng.expovariate(1 / 4))):
        items = [{"item": _item(rng), "quantity": rng.randint(1, 2)} for _ in range(rng.randint(1, 4))]
        # Log-normal basket: median about 40 EUR, a long tail of large orders.
        amount = max(99, int(math.exp(rng.gauss(math.log(4_000), 0.8))))
        records.append(
            {"kind": "purchase", "occurred_at": at(), "amount": amount, "currency": "EUR", "items": items}
        )
    records.sort(key=lambda r: r["occurred_at"])
    return records[:500]

"""The profile fields: each stable snake_case key with its category, sensitivity, type and label.

The consent engine decides by data category; the keys here are exactly its category keys. Sensitive
categories are opt-in and denied by default there. ``ProfilePatch`` (built from ``FIELDS``) validates a
flat JSON object of field key to value, where null clears a field and any key not in ``FIELDS`` is refused.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    TypeAdapter,
    create_model,
)

from consent.vocabulary import Category, Sensitivity
from consent.vocabulary import sensitivity as category_sensitivity

SCHEMA_VERSION = 1


def _not_future(value: dt.date) -> dt.date:
    if value > dt.datetime.now(dt.UTC).date() or value.year < 1900:
        raise ValueError("must be a date between 1900-01-01 and today")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Tags = Annotated[list[Tag], Field(max_length=50)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()./-]{5,24}$")]
PostalCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=2, max_length=12, pattern=r"^[A-Za-z0-9 -]+$")
]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
LanguageTag = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
PastDate = Annotated[dt.date, AfterValidator(_not_future)]
Gender = Literal["female", "male", "non_binary", "other", "prefer_not_to_say"]
IncomeBand = Literal["under_20k", "20k_40k", "40k_60k", "60k_100k", "100k_150k", "over_150k"]
NetWorthBand = Literal["negative", "under_10k", "10k_100k", "100k_500k", "over_500k"]
Channel = Literal["email", "sms", "post", "app", "phone"]


class LifeEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal[
        "moved_home",
        "married",
        "divorced",
        "new_child",
        "new_job",
        "retired",
        "graduated",
        "bereavement",
        "bought_home",
        "bought_car",
    ]
    date: PastDate


class GeoPoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)


@dataclass(frozen=True)
class FieldSpec:
    key: str
    category: str
    label: str
    type: Any
    sensitivity: Sensitivity

    def adapter(self) -> TypeAdapter[Any]:
        return _ADAPTERS[self.key]

    def encode(self, value: Any) -> bytes:
        """The validated value as canonical JSON bytes: the plaintext the vault seals."""
        return json.dumps(
            self.adapter().dump_python(value, mode="json"), separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")

    def decode(self, plaintext: bytes) -> Any:
        """The JSON form of a stored value (what the API returns), checked against the type once more."""
        return self.adapter().dump_python(self.adapter().validate_json(plaintext), mode="json")


def _spec(key: str, category: str, label: str, type_: Any) -> FieldSpec:
    # The consent vocabulary is the one source of categories and their sensitivity; an unknown key fails here.
    return FieldSpec(key, category, label, type_, category_sensitivity(Category(category)))


FIELDS: dict[str, FieldSpec] = {
    spec.key: spec
    for spec in (
        _spec("given_name", "identity", "Given name", Name),
        _spec("family_name", "identity", "Family name", Name),
        _spec("email", "contact", "Email address (also your login)", EmailStr),
        _spec("phone", "contact", "Phone number", Phone),
        _spec("street_address", "contact", "Street address", Text),
        _spec("postal_code", "contact", "Postal code", PostalCode),
        _spec("city", "contact", "City", Name),
        _spec("country", "contact", "Country", CountryCode),
        _spec("birth_date", "demographics", "Date of birth", PastDate),
        _spec("gender", "demographics", "Gender", Gender),
        _spec(
            "household_size", "demographics", "People in your household", Annotated[int, Field(ge=1, le=30)]
        ),
        _spec("occupation", "demographics", "Occupation", Name),
        _spec("income_band", "demographics", "Yearly household income band", IncomeBand),
        _spec("interests", "interests", "Interests", Tags),
        _spec("preferred_channels", "preferences", "How you like to be contacted", list[Channel]),
        _spec("preferred_brands", "preferences", "Brands you like", Tags),
        _spec("language", "preferences", "Preferred language", LanguageTag),
        _spec("life_events", "life_events", "Life events", Annotated[list[LifeEvent], Field(max_length=30)]),
        _spec("home_location", "precise_location", "Home location (latitude, longitude)", GeoPoint),
        _spec("health_conditions", "health", "Health conditions", Tags),
        _spec("dietary_requirements", "health", "Dietary requirements for health reasons", Tags),
        _spec("religion", "religion", "Religion or belief", Name),
        _spec("ethnicity", "ethnicity", "Ethnic origin", Name),
        _spec("political_opinion", "political_opinion", "Political opinion", Name),
        _spec("sexual_orientation", "sexual_orientation", "Sexual orientation", Name),
        _spec("net_worth_band", "finances", "Net worth band", NetWorthBand),
        _spec(
            "monthly_savings",
            "finances",
            "Monthly savings, in whole currency units",
            Annotated[int, Field(ge=0, le=10**12)],
        ),
    )
}

_ADAPTERS: dict[str, TypeAdapter[Any]] = {key: TypeAdapter(spec.type) for key, spec in FIELDS.items()}

# Every key optional and nullable: a PATCH names only the fields it changes, and null clears one.
ProfilePatch: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "ProfilePatch",
    __config__=ConfigDict(extra="forbid", json_schema_extra={"additionalProperties": False}),
    __doc__="Field key to new value; null clears the field. Keys outside the catalog are refused.",
    **{
        key: (
            spec.type | None,
            Field(default=None, description=f"{spec.label} ({spec.category}, {spec.sensitivity})"),
        )
        for key, spec in FIELDS.items()
    },
)


def field_aad_name(key: str) -> str:
    """The field name bound into the associated data of a profile value."""
    return f"profile.{key}"

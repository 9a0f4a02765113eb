"""The one settings class: every knob comes from here, read from `INFOMEDIARY_*` environment variables."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SUPPLIER_SCOPES: tuple[str, ...] = (
    "audiences:read",
    "slices:read",
    "offers:write",
    "requests:write",
    "catalog:write",
    "recommendations:read",
    "events:subscribe",
    "vouchers:redeem",
)
AUDITOR_SCOPES: tuple[str, ...] = ("audit:read", "audit:write")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INFOMEDIARY_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        default=Path("./var"), description="Where the embedded database and key files live."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; defaults to SQLite at <data_dir>/infomediary.db."
    )
    keys_dir: Path | None = Field(default=None, description="Key material; defaults to <data_dir>/keys.")

    issuer: str = Field(default="http://127.0.0.1:8000", description="OAuth issuer and public base URL.")

    # Who answers for the data (GDPR art. 13), with `controller_name` and `controller_email` below: named on
    # the landing page, the privacy notice and every page's footer.
    controller_address: str = Field(
        default="", max_length=500, description="The controller's postal address."
    )
    privacy_policy_url: str = Field(
        default="/privacy", max_length=500, description="The privacy policy; by default the service's notice."
    )
    token_audience: str = Field(default="infomediary-api", description="The `aud` of supplier access tokens.")
    access_token_ttl_seconds: int = Field(default=600, ge=30, le=3600)
    consumer_session_ttl_seconds: int = Field(default=3600, ge=60, le=30 * 24 * 3600)
    operator_session_ttl_seconds: int = Field(
        default=8 * 3600, ge=60, le=24 * 3600, description="Supplier-console and auditor-view sessions."
    )

    # argon2id parameters (RFC 9106 second recommended option by default); tests lower them for speed.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)

    login_window_seconds: int = Field(default=900, ge=1)
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=30, ge=1)

    # Requests per client address per window on the public endpoints (infomediary/ratelimits/service.py).
    rate_limit_window_seconds: int = Field(default=60, ge=1, le=86_400)
    rate_limit_login: int = Field(default=30, ge=1, description="Login attempts per address per window.")
    rate_limit_registration: int = Field(
        default=10, ge=1, description="Account registrations per address per window."
    )
    rate_limit_token: int = Field(
        default=120, ge=1, description="OAuth token and revocation requests per address per window."
    )

    # Few on purpose: requests run on the event loop (database work included); threads serve only plain
    # dependencies that do no I/O and the start-up checks. CPU-heavy steps have their own bounded pool
    # (`infomediary.offload`). Run one process per core for more throughput.
    worker_threads: int = Field(
        default=4,
        ge=1,
        le=200,
        description="Threads per process for plain (non-async) dependencies and start-up checks.",
    )
    database_busy_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=300,
        description="On SQLite, how long a writer waits for the database lock before its request is "
        "answered 503 with Retry-After (another writer held it throughout).",
    )
    # Unwrapped data keys live only in memory, each at most this long (counted from the unwrap).
    vault_cache_size: int = Field(default=10_000, ge=1, description="Data keys kept unwrapped in memory.")
    vault_cache_ttl_seconds: float = Field(default=300.0, gt=0, le=3600)
    key_rotation_batch: int = Field(
        default=500, ge=1, le=100_000, description="Data keys rewrapped per transaction."
    )

    log_origin: str | None = Field(
        default=None,
        description="Origin line of policy-log checkpoints; defaults to '<issuer host>/policy-log'.",
    )
    log_tree_head_interval_seconds: int = Field(
        default=30, ge=0, description="A new tree head is signed on demand only if the last is this old."
    )

    controller_name: str = Field(default="Infomediary", description="The PII controller named on receipts.")
    controller_email: str = Field(
        default="privacy@infomediary.invalid", description="Contact address named on consent receipts."
    )
    receipt_jurisdiction: str = Field(default="EU", description="Jurisdiction named on consent receipts.")

    # Audience counts (non-negotiable 6). Epsilon is per fresh answer; the budget is per supplier per period.
    # The guarantee is the budget: by sequential composition a supplier's answers of one period together cost
    # at most `audience_epsilon_budget`, however it splits them. 0.2 a count (discrete Laplace of scale 5, a
    # standard deviation of about 7 customers, small beside the minimum cohort of 50) gives 25 fresh counts a
    # day instead of 10 at 0.5, which ended a supplier's first exploration of the API; repeats stay free. The
    # budget itself is unchanged, so what all the answers of a period reveal together is bounded as before.
    audience_epsilon: float = Field(default=0.2, gt=0, le=100, description="Epsilon charged per count.")
    audience_min_cohort: int = Field(
        default=50, ge=0, description="Noisy counts below this are suppressed (k)."
    )
    audience_epsilon_budget: float = Field(
        default=5.0, gt=0, le=100_000, description="Epsilon a supplier may spend per budget period."
    )
    audience_budget_period_seconds: int = Field(
        default=86_400, ge=60, description="Length of an epsilon budget period (aligned to the epoch)."
    )
    # Individual privacy accounting (`privacy_loss`): every DP release that includes a customer is charged to
    # her own account, and once a release would take her past her cap she is left out of further ones until
    # the budget period ends. The default sits above one supplier's whole budget, so it binds only when
    # several suppliers' releases keep including the same customer; she may set her own, up to the maximum.
    privacy_loss_cap: float = Field(
        default=10.0,
        gt=0,
        le=1_000_000,
        description="A customer's privacy-loss cap per budget period (epsilon).",
    )
    privacy_loss_cap_max: float = Field(
        default=50.0,
        gt=0,
        le=1_000_000,
        description="The highest privacy-loss cap a customer may choose.",
    )
    # Differencing is checked on the customers matched (`audiences.differencing`), against this many of the
    # supplier's most recent stored answers of the period; each one adds a `count(*) FILTER` to the count's
    # scan. 0 turns the check off (tests of other things on tiny populations).
    audience_differencing_window: int = Field(
        default=32,
        ge=0,
        le=256,
        description="Recent audience queries a new count is compared with, as sets, for differencing.",
    )

    # Pseudonymous slices (non-negotiable 6). k is smaller than the audience cohort: a slice releases
    # generalised rows, not a count, and every quasi-identifier class of k rows hides each member among k.
    slice_min_k: int = Field(
        default=5, ge=2, description="Every released slice is k-anonymous over its quasi-identifiers."
    )
    slice_max_suppressed: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Share of a slice's rows suppressed before all rows are generalised a level further.",
    )
    slice_max_rows: int = Field(
        default=100_000, ge=1, description="Largest slice (candidate customers) computed in one request."
    )

    # Offers: a supplier sees how many customers an offer reached, viewed and accepted it only from k up.
    offer_min_cohort: int = Field(
        default=10, ge=1, description="Offer statistics below this count are withheld (null) from suppliers."
    )
    # An offer's audience is a count query: sending one is charged this epsilon against the supplier's
    # audience budget (and checked for differencing), and its statistics are released with OpenDP noise of
    # this epsilon per release, split over delivered, viewed and accepted (one customer moves each by one).
    offer_epsilon: float = Field(
        default=0.5, gt=0, le=100, description="Epsilon charged per offer sent and per statistics release."
    )
    # Offer statistics are redrawn on a fixed schedule, not when their figures change (`offers.stats`): at
    # most once per interval per offer, each fresh draw charged `offer_epsilon`.
    offer_stats_interval_seconds: int = Field(
        default=86_400, ge=1, description="Least time between two fresh draws of one offer's statistics."
    )
    # Customers' reports of unwanted offers. A strike for reports needs many distinct reporters, so a few
    # customers (or one with many accounts' worth of patience) cannot push a supplier to suspension:
    # - per offer: at least `offer_report_min_reporters` reporters AND at least `offer_report_share` of the
    #   offer's deliveries (one strike per offer at most);
    # - per supplier: at least `supplier_report_min_reporters` distinct reporters across its offers within
    #   `offer_report_window_seconds` (one strike per window at most).
    offer_report_min_reporters: int = Field(
        default=10, ge=1, description="Distinct reporters an offer needs before its reports earn a strike."
    )
    offer_report_share: float = Field(
        default=0.05, gt=0, le=1, description="Share of an offer's deliveries reported before a strike."
    )
    supplier_report_min_reporters: int = Field(
        default=25,
        ge=1,
        description="Distinct reporters across a supplier's offers in the window for a strike.",
    )
    offer_report_window_seconds: int = Field(
        default=7 * 86_400,
        ge=60,
        description="Window over which a supplier's distinct reporters are counted.",
    )
    # Per-customer limit: beyond it a report is refused with 429 and Retry-After.
    report_rate_limit: int = Field(default=10, ge=1, description="Reports a customer may make per window.")
    report_rate_window_seconds: int = Field(
        default=3_600, ge=1, description="Window of the per-customer report rate limit."
    )

    # Rewards ledger: integer credits. A supplier's balance may go this far below zero and no further.
    supplier_credit_line: int = Field(
        default=10_000,
        ge=0,
        description="Credits a supplier may owe before money-moving requests are refused.",
    )

    # Supplier status machine (infomediary/sanctions/status.py). Strikes count over all time: a strike is
    # never forgotten (it also drives customers' "only suppliers without strikes" terms), and status only
    # moves up automatically; an operator's `suppliers resume` is the way back.
    sanctions_warned_at_strikes: int = Field(
        default=1, ge=1, description="Strikes that make a supplier warned."
    )
    sanctions_throttled_at_strikes: int = Field(
        default=3, ge=1, description="Strikes that make a supplier throttled."
    )
    sanctions_suspended_at_strikes: int = Field(
        default=5, ge=1, description="Strikes that suspend a supplier (its tokens stop working at once)."
    )
    throttled_epsilon_fraction: float = Field(
        default=0.5, gt=0, le=1, description="Share of the epsilon budget a throttled supplier may spend."
    )

    # Business events (webhooks). Delivery: attempt n (1-based) that fails is retried after
    # min(base * 2**(n-1), max) seconds, scaled by a random factor in [0.5, 1] (jitter), until
    # `webhook_max_attempts` attempts were made; the delivery is then marked failed.
    webhook_max_endpoints: int = Field(default=10, ge=1, le=100, description="Endpoints per supplier.")
    webhook_max_attempts: int = Field(
        default=8, ge=1, le=30, description="Attempts per delivery before it is marked failed."
    )
    webhook_backoff_base_seconds: float = Field(
        default=30.0, ge=0, le=3600, description="Wait after the first failed attempt (doubles each time)."
    )
    webhook_backoff_max_seconds: float = Field(
        default=6 * 3600.0, ge=0, le=7 * 86_400, description="Longest wait between two attempts."
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60, description="Per delivery attempt.")
    webhook_lease_seconds: int = Field(
        default=120,
        ge=1,
        le=3600,
        description="A claimed delivery is retried by another worker if not settled within this time.",
    )
    webhook_delivery_batch: int = Field(default=100, ge=1, le=10_000, description="Deliveries per pass.")
    # Both off in production: endpoints must be https on a public address. Tests and local development
    # turn on loopback (http allowed there); private ranges stay refused unless explicitly allowed.
    webhook_allow_loopback: bool = Field(
        default=False, description="Allow http(s) endpoints on loopback addresses (tests, development)."
    )
    webhook_allow_private: bool = Field(
        default=False, description="Allow endpoints on private, link-local or otherwise non-public addresses."
    )

    # Catalogs and recommendations (issue 8).
    catalog_max_items: int = Field(
        default=100_000, ge=1, description="Items one supplier's catalog may hold."
    )
    rules_max_per_supplier: int = Field(
        default=100, ge=1, description="Business rules one supplier may store."
    )
    recommend_max_n: int = Field(
        default=50, ge=1, le=500, description="Most items one recommendation returns."
    )
    recommend_min_segment: int = Field(
        default=20,
        ge=1,
        description="Customers a segment needs before its popularity is kept for cold-start recommendations.",
    )
    recommend_min_item_customers: int = Field(
        default=5,
        ge=1,
        description=(
            "Noisy threshold of audience top items: the score of the stop candidate of the DP selection; "
            "items drawn after it are not released."
        ),
    )
    recommend_audience_max_customers: int = Field(
        default=5_000, ge=1, description="Customers whose history one audience recommendation reads at most."
    )
    # At least one milli-epsilon: the budget is kept in whole milli-epsilon, and a draw must cost something.
    recommend_audience_epsilon: float = Field(
        default=1.0, ge=0.001, le=100, description="Epsilon charged per fresh audience top-items selection."
    )
    recommend_audience_items_per_customer: int = Field(
        default=10,
        ge=1,
        le=500,
        description="Items (her heaviest) one customer adds to an audience's top-items scores at most.",
    )
    recommend_factors: int = Field(
        default=64, ge=2, le=1024, description="Matrix factorisation: latent factors."
    )
    recommend_iterations: int = Field(
        default=15, ge=1, le=200, description="Matrix factorisation: ALS sweeps."
    )
    recommend_regularization: float = Field(default=0.05, gt=0, le=100)
    recommend_neighbours: int = Field(
        default=100, ge=1, le=10_000, description="Item-to-item: neighbours kept."
    )

    # Outgoing mail (`infomediary.mail`). Without a relay host, mail is written as .eml files to
    # <data_dir>/mail/ (`infomediary mail list` shows them): the embedded default works offline.
    mail_smtp_host: str | None = Field(
        default=None, description="SMTP relay host; unset: mail is kept in <data_dir>/mail/ instead."
    )
    mail_smtp_port: int = Field(default=587, ge=1, le=65_535, description="SMTP relay port (submission).")
    mail_smtp_starttls: bool = Field(
        default=True, description="Upgrade the relay connection with STARTTLS before anything is sent."
    )
    mail_smtp_ca_file: Path | None = Field(
        default=None, description="Certificates to trust for the relay (a private CA); default: the system's."
    )
    mail_smtp_username: str | None = Field(
        default=None, description="SMTP AUTH user name, if the relay asks."
    )
    mail_smtp_password: SecretStr | None = Field(default=None, description="SMTP AUTH password.")
    mail_from: str = Field(
        default="Infomediary <no-reply@infomediary.invalid>", description="The From of every message sent."
    )
    mail_timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="Per SMTP connection.")

    # The anonymous mail relay (issue 20, `infomediary.relay`): each customer's address per supplier lives
    # under this domain, and `infomediary relay serve` accepts mail for it.
    relay_domain: str = Field(
        default="relay.infomediary.invalid",
        min_length=3,
        max_length=200,
        pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$",
        description="The relay's mail domain (lower case): aliases are <random>@<relay_domain>.",
    )
    relay_dkim_selector: str = Field(
        default="relay",
        max_length=63,
        pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$",
        description="DKIM selector of the relay's key (publish `infomediary relay dkim-record` under it).",
    )
    relay_max_message_bytes: int = Field(
        default=1_048_576, ge=1024, le=50 * 1_048_576, description="Largest message the relay accepts."
    )
    relay_host: str = Field(default="127.0.0.1", description="Address `infomediary relay serve` listens on.")
    relay_port: int = Field(default=2525, ge=1, le=65_535, description="Port `infomediary relay serve` uses.")
    relay_messages_per_supplier_per_hour: int = Field(
        default=1000,
        ge=1,
        le=10_000_000,
        description="Messages one supplier may send through the relay per hour; beyond, 451 (try later).",
    )
    relay_image_max_bytes: int = Field(
        default=2 * 1_048_576,
        ge=1024,
        le=20 * 1_048_576,
        description="Largest image the image proxy fetches.",
    )
    relay_image_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Time the image proxy gives a remote server for one image."
    )

    # Accounts (issue 19): links mailed to the customer, and the second factor.
    email_verification_ttl_seconds: int = Field(
        default=48 * 3600, ge=60, le=30 * 86_400, description="How long an address-confirmation link works."
    )
    password_reset_ttl_seconds: int = Field(
        default=3600, ge=60, le=86_400, description="How long a password-reset link works."
    )
    email_change_ttl_seconds: int = Field(
        default=24 * 3600,
        ge=60,
        le=7 * 86_400,
        description="How long a new login address's confirmation link works.",
    )
    login_challenge_ttl_seconds: int = Field(
        default=300, ge=30, le=3600, description="Time between the password and the second-factor code."
    )
    # However many addresses ask: a mailbox is not flooded with links and notices through us.
    account_mails_per_hour: int = Field(
        default=5, ge=1, description="Account mails (links, notices) one account is sent per hour at most."
    )

    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body accepted.")
    log_level: str = Field(default="INFO")
    log_json: bool = Field(default=True)

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'infomediary.db').resolve()}"

    @cached_property
    def resolved_keys_dir(self) -> Path:
        return self.keys_dir if self.keys_dir is not None else self.data_dir / "keys"

    @cached_property
    def resolved_log_origin(self) -> str:
        if self.log_origin:
            return self.log_origin
        host = urlsplit(self.issuer).netloc or "infomediary.local"
        return f"{host}/policy-log"

    @cached_property
    def resolved_mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

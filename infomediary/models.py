"""Imports every table so that Alembic and the drift check see one complete metadata."""

from infomediary.aliases.models import RelayAliasRow
from infomediary.audiences.models import (
    AudienceAnswerRow,
    AudienceEpochRow,
    AudienceIndexRow,
    EpsilonLedgerRow,
)
from infomediary.auditors.models import Auditor
from infomediary.consents.models import (
    ConsentEventRow,
    ConsentRecordRow,
    PrivacySignalRow,
    StandingTermRow,
    SupplierPolicyRow,
    SupplierRequestRow,
)
from infomediary.customers.models import (
    AccountToken,
    ConsumerSession,
    Customer,
    LoginFailure,
    RecoveryCode,
    SecondFactor,
)
from infomediary.database import Base
from infomediary.ledger.models import LedgerAccount, LedgerPosting, LedgerTransaction
from infomediary.oauth.models import OAuthClient, RevokedToken
from infomediary.offers.models import OfferDeliveryRow, OfferRow
from infomediary.operators.models import Operator, OperatorSession
from infomediary.policylog.models import PolicyLogEntry, PolicyLogNode, PolicyLogState, PolicyLogTreeHead
from infomediary.privacy_loss.models import PrivacyLossCap, PrivacyLossTally, PrivacyReleaseRow
from infomediary.products.models import CatalogItemRow
from infomediary.profiles.models import (
    ActivityRecord,
    CustomerKey,
    ProcessingRestriction,
    ProfileChange,
    ProfileField,
)
from infomediary.pseudonyms.models import SupplierPseudonymRow
from infomediary.ratelimits.models import RateLimitCounter
from infomediary.recommendations.models import (
    AudienceItemsAnswerRow,
    RecommendationExclusionRow,
    RecommenderModelRow,
)
from infomediary.relay.models import RelayedMessageRow, SupplierSendingDomainRow
from infomediary.rules.models import BusinessRuleRow
from infomediary.sanctions.models import AuditFinding, SupplierSanction
from infomediary.suppliers.models import Supplier
from infomediary.vouchers.models import VoucherRow
from infomediary.webhooks.models import WebhookDeliveryRow, WebhookEndpointRow, WebhookEventRow

__all__ = [
    "AccountToken",
    "ActivityRecord",
    "AudienceAnswerRow",
    "AudienceEpochRow",
    "AudienceIndexRow",
    "AudienceItemsAnswerRow",
    "AuditFinding",
    "Auditor",
    "Base",
    "BusinessRuleRow",
    "CatalogItemRow",
    "ConsentEventRow",
    "ConsentRecordRow",
    "ConsumerSession",
    "Customer",
    "CustomerKey",
    "EpsilonLedgerRow",
    "LedgerAccount",
    "LedgerPosting",
    "LedgerTransaction",
    "LoginFailure",
    "OAuthClient",
    "OfferDeliveryRow",
    "OfferRow",
    "Operator",
    "OperatorSession",
    "PolicyLogEntry",
    "PolicyLogNode",
    "PolicyLogState",
    "PolicyLogTreeHead",
    "PrivacyLossCap",
    "PrivacyLossTally",
    "PrivacyReleaseRow",
    "PrivacySignalRow",
    "ProcessingRestriction",
    "ProfileChange",
    "ProfileField",
    "RateLimitCounter",
    "RecommendationExclusionRow",
    "RecommenderModelRow",
    "RecoveryCode",
    "RelayAliasRow",
    "RelayedMessageRow",
    "RevokedToken",
    "SecondFactor",
    "StandingTermRow",
    "Supplier",
    "SupplierPolicyRow",
    "SupplierPseudonymRow",
    "SupplierRequestRow",
    "SupplierSanction",
    "SupplierSendingDomainRow",
    "VoucherRow",
    "WebhookDeliveryRow",
    "WebhookEndpointRow",
    "WebhookEventRow",
]

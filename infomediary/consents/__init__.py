"""Consents wired to customers and suppliers: storage, services, receipts, policies, terms, the inbox, GPC."""

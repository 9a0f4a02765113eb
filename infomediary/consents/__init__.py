"""Consents wired to customers and suppliers: storage, services, receipts, policies, terms, supplier
requests, GPC."""

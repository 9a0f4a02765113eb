"""Every route a supplier calls, in one place: its account, policy, ledger and webhooks (modules here), and
the brokered API, a package per resource (audiences, slices, offers, recommendations, products, supplier
requests). Consumers' routes are in `api.me`, auditors' in `api.audit`."""

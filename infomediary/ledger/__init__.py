"""The rewards ledger: double-entry bookkeeping in integer credits (suppliers, customers, the broker)."""

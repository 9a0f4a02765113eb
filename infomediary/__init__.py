"""The broker: domain services between customers, suppliers and auditors."""

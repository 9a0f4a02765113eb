"""Vouchers: a customer's credits turned into a single-use bearer code for one supplier, spent without her
being named (issue 20). The broker is the trusted party: see docs/privacy-model.md, section 7."""

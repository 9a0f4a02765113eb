"""Redeeming vouchers at the supplier's checkout (`vouchers:redeem`)."""

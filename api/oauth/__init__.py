"""OAuth 2.0 endpoints and discovery documents for suppliers and auditors."""

"""OAuth 2.0 for suppliers and auditors: client credentials, RFC 9068 JWT access tokens, revocation."""

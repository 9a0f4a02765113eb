"""Request rate limits on the public endpoints (login, registration, OAuth token), shared by every worker."""

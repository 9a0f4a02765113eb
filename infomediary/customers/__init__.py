"""Consumer accounts: registration, login sessions, password changes and login throttling."""

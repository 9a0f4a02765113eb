"""Routes anyone may call: register and log in, and log out."""

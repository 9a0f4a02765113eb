"""The customer's vault as the broker sees it: profile fields, activity, history, rights, and data keys."""

"""Logging in: passwords and PINs (argon2id), bearer tokens, the role guard, page
sessions' tokens. URLs: /api/v1/auth/*."""

"""Advanced Mobile Location: the position a handset sends by itself when it dials an
emergency number, by SMS (ETSI TS 103 625) or HTTPS (Android ELS). URLs:
/api/v1/aml/*."""

"""HTTP API v1: thin handlers that check the caller, read the body, run one
domain function in one transaction and answer."""

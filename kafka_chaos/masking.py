"""Secret-looking settings, and copies of data with their values replaced: no secret reaches a file or a terminal."""

from __future__ import annotations

SECRET_WORDS = ("password", "secret", "token", "sasl_jaas", "ssl_key")
MASK = "***"


def is_secret(key) -> bool:
    """True for a setting name that may hold a secret, spelled either way (sasl.jaas.config, ssl_keyfile)."""
    name = str(key).lower().replace(".", "_").replace("-", "_")
    return any(w in name for w in SECRET_WORDS)


def mask(value):
    """A copy with secret-looking settings replaced (scenario.json and reports never hold secrets)."""
    if isinstance(value, dict):
        return {k: MASK if is_secret(k) else mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value

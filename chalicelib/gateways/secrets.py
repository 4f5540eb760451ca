"""Secrets from configuration: an SSM SecureString parameter in AWS, a plain variable locally.

`NAME` holds the value itself where a process is given one (local stack, tests); otherwise
`NAME_PARAMETER` names the parameter, read once per process and decrypted. Never logged.
"""

from __future__ import annotations

import os
from functools import lru_cache

from botocore.exceptions import ClientError

from chalicelib.gateways.aws import client


class MissingSecretError(RuntimeError):
    """A secret the operation needs is not configured (a deployment mistake, not a client error)."""


@lru_cache(maxsize=16)
def _parameter(name: str) -> str:
    """The decrypted value; a parameter that does not exist is a missing secret (never cached)."""
    try:
        value: str = client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            raise MissingSecretError(f"the parameter {name} does not exist") from exc
        raise
    return value


def secret(name: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    parameter = os.environ.get(f"{name}_PARAMETER")
    if parameter:
        return _parameter(parameter)
    raise MissingSecretError(f"{name} is not configured")

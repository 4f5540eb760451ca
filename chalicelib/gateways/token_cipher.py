"""OAuth refresh tokens encrypted with KMS before they are stored (DESIGN.md §7).

The ciphertext is bound to its tenant and provider by the encryption context, so a stored
token copied onto another provider's record does not decrypt. Plain text never leaves memory.
"""

from __future__ import annotations

import base64
from typing import Protocol

from chalicelib.gateways.aws import client


class TokenCipher(Protocol):
    def encrypt(self, plaintext: str, context: dict[str, str]) -> str: ...

    def decrypt(self, ciphertext: str, context: dict[str, str]) -> str: ...


class KmsTokenCipher:
    def __init__(self, key_id: str) -> None:
        self._key_id = key_id

    def encrypt(self, plaintext: str, context: dict[str, str]) -> str:
        blob: bytes = client("kms").encrypt(
            KeyId=self._key_id, Plaintext=plaintext.encode(), EncryptionContext=context
        )["CiphertextBlob"]
        return base64.b64encode(blob).decode()

    def decrypt(self, ciphertext: str, context: dict[str, str]) -> str:
        plain: bytes = client("kms").decrypt(
            KeyId=self._key_id, CiphertextBlob=base64.b64decode(ciphertext), EncryptionContext=context
        )["Plaintext"]
        return plain.decode()

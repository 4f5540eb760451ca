"""Stored documents (invoice PDFs): a private, encrypted S3 bucket, and an in-memory fake.

Objects are written once under a key that names the tenant; readers get a presigned GET
that needs no credentials and expires (15 minutes for invoices).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.gateways.aws import region

PRESIGNED_SECONDS = 15 * 60


class DocumentStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str, sha256_hex: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def url(self, key: str, expires_seconds: int = PRESIGNED_SECONDS) -> str: ...


class S3DocumentStore:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket
        self._client: Any = None

    def _s3(self) -> Any:
        """Signature V4 (presigned URLs say X-Amz-Expires; V2's absolute Expires is deprecated)."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.session.Session().client(
                "s3", region_name=region(), config=Config(signature_version="s3v4")
            )
        return self._client

    def put(self, key: str, body: bytes, content_type: str, sha256_hex: str) -> None:
        self._s3().put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            ServerSideEncryption="aws:kms",
            Metadata={"sha256": sha256_hex},
        )

    def get(self, key: str) -> bytes:
        body: bytes = self._s3().get_object(Bucket=self._bucket, Key=key)["Body"].read()
        return body

    def url(self, key: str, expires_seconds: int = PRESIGNED_SECONDS) -> str:
        url: str = self._s3().generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_seconds
        )
        return url


@dataclass
class InMemoryDocumentStore:
    objects: dict[str, bytes] = field(default_factory=dict)

    def put(self, key: str, body: bytes, content_type: str, sha256_hex: str) -> None:
        self.objects[key] = body

    def get(self, key: str) -> bytes:
        return self.objects[key]

    def url(self, key: str, expires_seconds: int = PRESIGNED_SECONDS) -> str:
        return f"memory://{key}?expires={expires_seconds}"

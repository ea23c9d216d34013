"""S3-compatible object storage for certificate PDFs (AWS S3, MinIO, Ceph, Garage, ...).

boto3 (botocore) signs requests with SigV4 as every S3-compatible server expects; its client
is thread-safe, and the service calls it through `asyncio.to_thread`.
"""

from __future__ import annotations

from typing import Any

from services.certificates.settings import Settings


class S3PdfStore:
    """PDFs as objects in one bucket, under an optional key prefix."""

    name = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_settings(cls, settings: Settings) -> S3PdfStore:
        """Builds the client from CERTIFICATES_S3_* settings."""
        import boto3
        from botocore.config import Config

        if not settings.s3_bucket:
            raise ValueError("CERTIFICATES_S3_BUCKET must be set when CERTIFICATES_STORAGE=s3")
        secret = settings.s3_secret_access_key
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
        )
        return cls(client, settings.s3_bucket, settings.s3_prefix)

    def _key(self, key: str) -> str:
        return self.prefix + key

    def put(self, key: str, data: bytes) -> None:
        """Uploads the object (S3 replaces an existing one atomically)."""
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(key), Body=data, ContentType="application/pdf"
        )

    def get(self, key: str) -> bytes | None:
        """Downloads the object, or None when the bucket has no such key."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.NoSuchKey:
            return None
        body: bytes = response["Body"].read()
        return body

    def delete(self, key: str) -> None:
        """Deletes the object (S3 answers success for an absent key too)."""
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

"""A self-signed serving certificate from the openssl CLI: kubectl sends a bearer token only over TLS."""

from __future__ import annotations

import functools
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ServingCert:
    cert_file: Path
    key_file: Path

    @property
    def ca_pem(self) -> bytes:
        """Self-signed, so the certificate is its own CA (certificate-authority-data)."""
        return self.cert_file.read_bytes()

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


@functools.cache
def serving_cert() -> ServingCert:
    """One certificate per process (valid for 127.0.0.1, ::1 and localhost)."""
    directory = Path(tempfile.mkdtemp(prefix="kubeapi-tls-"))
    cert, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=kubeapi-test",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-addext",
            "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,digitalSignature,keyCertSign",
        ],
        check=True,
        capture_output=True,
    )
    return ServingCert(cert, key)

"""Test certificates, made with the openssl command at test time in a temporary directory
(never committed): a CA, a server certificate for 127.0.0.1 / localhost signed by it (also
with its key encrypted under a password), a second server certificate, and a client
certificate signed by the same CA, and a self-signed client certificate no CA vouches for.

``make_certificates()`` returns a ``Certificates`` with the paths; ``cleanup()`` removes them.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile

KEY_PASSWORD = "test-pass"


def _openssl(*args: str, cwd: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@dataclasses.dataclass
class Certificates:
    """The files' paths, all in `dir`."""
    dir: str

    def __post_init__(self) -> None:
        def path(name: str) -> str:
            return os.path.join(self.dir, name)
        self.ca = path("ca.crt")
        self.server_cert, self.server_key = path("server.crt"), path("server.key")
        self.encrypted_server_key = path("server-encrypted.key")
        self.other_server_cert, self.other_server_key = path("other.crt"), path("other.key")
        self.client_cert, self.client_key = path("client.crt"), path("client.key")
        self.stranger_cert, self.stranger_key = path("stranger.crt"), path("stranger.key")

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _signed(name: str, subject: str, extension: str, cwd: str) -> None:
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", subject, cwd=cwd)
    with open(os.path.join(cwd, f"{name}.ext"), "w") as f:
        f.write(extension + "\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext", cwd=cwd)


def make_certificates() -> Certificates:
    cwd = tempfile.mkdtemp(prefix="atoll-tls-")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", "/CN=Atoll Test CA", cwd=cwd)
    server_names = "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth"
    _signed("server", "/CN=localhost", server_names, cwd)
    _signed("other", "/CN=localhost", server_names, cwd)
    _signed("client", "/CN=atoll-test-client", "extendedKeyUsage=clientAuth", cwd)
    # A client certificate no CA of the test signed (self-signed).
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "stranger.key", "-out", "stranger.crt",
             "-days", "2", "-subj", "/CN=stranger", cwd=cwd)
    _openssl("pkey", "-in", "server.key", "-aes256", "-passout", f"pass:{KEY_PASSWORD}", "-out", "server-encrypted.key",
             cwd=cwd)
    return Certificates(cwd)

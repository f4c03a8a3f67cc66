"""A local certificate authority and a server certificate for localcloud's HTTPS endpoint.

``ensure_certificates(directory)`` writes ``ca.pem``, ``server.pem`` and ``server-key.pem`` (ECDSA P-256) and reuses
files that are still good: parseable, signed by the CA in the same directory, valid for at least another day, and
naming every requested host. Clients trust the endpoint with ``AWS_CA_BUNDLE=<directory>/ca.pem``.

The CA's private key is not kept: the server certificate is issued once, together with a new CA, and a CA whose
key is gone cannot be talked into signing anything else. Regenerating replaces all three files.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import ipaddress
import os
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"
DEFAULT_HOSTS = ("127.0.0.1", "localhost")

CA_VALIDITY = datetime.timedelta(days=3650)
SERVER_VALIDITY = datetime.timedelta(days=825)  # the longest lifetime Apple's TLS clients accept
MIN_REMAINING = datetime.timedelta(days=1)  # files expiring sooner than this are replaced


@dataclass(frozen=True)
class CertificatePaths:
    """Where the CA bundle, the server certificate and its private key are."""

    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """A TLS server context serving this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(certfile=str(self.cert), keyfile=str(self.key))
        return context


def ensure_certificates(
    directory: Path | str,
    hosts: Sequence[str] = DEFAULT_HOSTS,
    *,
    now: datetime.datetime | None = None,
) -> CertificatePaths:
    """Return the certificate files in ``directory``, creating or replacing them when they are not usable."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = CertificatePaths(ca=directory / CA_FILE, cert=directory / CERT_FILE, key=directory / KEY_FILE)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    with _locked(directory / ".tls.lock"):
        if not certificates_usable(paths, hosts, now=now):
            _generate(paths, hosts, now)
    return paths


def certificates_usable(paths: CertificatePaths, hosts: Sequence[str], *, now: datetime.datetime) -> bool:
    """True if the three files exist, belong together, cover ``hosts`` and stay valid for at least a day."""
    try:
        ca = x509.load_pem_x509_certificate(paths.ca.read_bytes())
        cert = x509.load_pem_x509_certificate(paths.cert.read_bytes())
        key = serialization.load_pem_private_key(paths.key.read_bytes(), password=None)
    except (OSError, ValueError):
        return False
    for certificate in (ca, cert):
        if certificate.not_valid_before_utc > now or certificate.not_valid_after_utc < now + MIN_REMAINING:
            return False
    if cert.issuer != ca.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    if key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        return False
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return set(_san_entries(hosts)) <= set(names)


def _san_entries(hosts: Sequence[str]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    for host in hosts:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            entries.append(x509.DNSName(host))
    return entries


def _generate(paths: CertificatePaths, hosts: Sequence[str], now: datetime.datetime) -> None:
    start = now - datetime.timedelta(minutes=5)  # tolerate a client clock slightly behind ours
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "localcloud"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"localcloud local CA {now:%Y-%m-%d %H:%M:%S}"),
        ]
    )
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + SERVER_VALIDITY)
        .add_extension(x509.SubjectAlternativeName(_san_entries(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key_pem = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Key first, CA last: a reader that sees the new CA sees a matching certificate and key too.
    _write_atomically(paths.key, key_pem, mode=0o600)
    _write_atomically(paths.cert, server_cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
    _write_atomically(paths.ca, ca_cert.public_bytes(serialization.Encoding.PEM), mode=0o644)


def _write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Serialise generation between processes sharing the directory."""
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

"""The local CA and server certificate: generated once, reused while good, trusted through ca.pem."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509

from localcloud.tls import CA_FILE, CERT_FILE, KEY_FILE, certificates_usable, ensure_certificates


def handshake(server: ssl.SSLContext, client: ssl.SSLContext, host: str) -> None:
    """A TLS handshake in memory: the client checks the chain and the host name."""
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    client_side = client.wrap_bio(client_in, client_out, server_hostname=host)
    server_side = server.wrap_bio(server_in, server_out, server_side=True)
    for _ in range(10):
        done = 0
        for side, outgoing, peer_incoming in (
            (client_side, client_out, server_in),
            (server_side, server_out, client_in),
        ):
            try:
                side.do_handshake()
                done += 1
            except ssl.SSLWantReadError:
                pass
            data = outgoing.read()
            if data:
                peer_incoming.write(data)
        if done == 2:
            return
    raise AssertionError("handshake did not finish")


def test_generates_ca_and_server_certificate(tmp_path: Path) -> None:
    paths = ensure_certificates(tmp_path)

    certificate = x509.load_pem_x509_certificate(paths.cert.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {paths.ca.name, paths.cert.name, paths.key.name} == {CA_FILE, CERT_FILE, KEY_FILE}
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert paths.key.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_clients_trusting_ca_pem_accept_the_server(tmp_path: Path, host: str) -> None:
    paths = ensure_certificates(tmp_path)
    client = ssl.create_default_context(cafile=str(paths.ca))

    handshake(paths.server_context(), client, host)


def test_clients_not_trusting_ca_pem_reject_the_server(tmp_path: Path) -> None:
    paths = ensure_certificates(tmp_path)
    client = ssl.create_default_context()  # the system's CAs only

    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(paths.server_context(), client, "127.0.0.1")


def test_existing_valid_files_are_reused(tmp_path: Path) -> None:
    first = ensure_certificates(tmp_path)
    before = {path: path.read_bytes() for path in (first.ca, first.cert, first.key)}

    second = ensure_certificates(tmp_path)

    assert {path: path.read_bytes() for path in (second.ca, second.cert, second.key)} == before


def test_files_about_to_expire_are_replaced(tmp_path: Path) -> None:
    paths = ensure_certificates(tmp_path)
    old_ca = paths.ca.read_bytes()
    two_years_on = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=730)

    assert not certificates_usable(paths, ("127.0.0.1", "localhost"), now=two_years_on + datetime.timedelta(days=100))
    ensure_certificates(tmp_path, now=two_years_on + datetime.timedelta(days=100))

    assert paths.ca.read_bytes() != old_ca


def test_damaged_or_mismatched_files_are_replaced(tmp_path: Path) -> None:
    paths = ensure_certificates(tmp_path)
    other = ensure_certificates(tmp_path / "other")
    paths.ca.write_bytes(other.ca.read_bytes())  # a CA that did not sign server.pem

    repaired = ensure_certificates(tmp_path)

    handshake(repaired.server_context(), ssl.create_default_context(cafile=str(repaired.ca)), "127.0.0.1")


def test_a_new_host_name_gets_a_new_certificate(tmp_path: Path) -> None:
    ensure_certificates(tmp_path)

    paths = ensure_certificates(tmp_path, hosts=("127.0.0.1", "localhost", "localcloud.test"))

    handshake(paths.server_context(), ssl.create_default_context(cafile=str(paths.ca)), "localcloud.test")

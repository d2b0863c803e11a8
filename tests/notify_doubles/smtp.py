"""A real SMTP server for the e-mail tests: aiosmtpd on a free 127.0.0.1 port.

`SmtpDouble(directory)` writes a self-signed certificate for ``localhost`` / ``127.0.0.1``
into `directory` (`cert_path`: give it as the destination's ``cafile``) and serves
STARTTLS (``require_starttls``: nothing but EHLO/STARTTLS/QUIT before it) and AUTH
LOGIN/PLAIN for one `user` / `password` (only over TLS; a mail needs a login when
`auth_required`). Every accepted mail lands in `received` with what the session did (TLS,
login); `auth_attempts` records each login tried. `fail_next(code, text)` answers the next
DATA with that reply (e.g. 451, to test retries).

    with SmtpDouble(tmp_path) as smtp:
        ...  # EmailDestination(host=smtp.host, port=smtp.port, cafile=smtp.cert_path, ...)
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections import deque
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

USER = "bot@example.com"
PASSWORD = "smtp-Pa55-for-the-double"
HOST = "127.0.0.1"


def write_self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate (its own CA) for localhost and 127.0.0.1: (cert, key) PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    """One mail the server accepted."""

    message: EmailMessage
    mail_from: str
    rcpt_tos: list[str]
    tls: bool
    """The session had done STARTTLS."""
    login: str | None
    """The user logged in as, if any."""


class _Handler:
    def __init__(self, double: SmtpDouble) -> None:
        self.double = double

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.double.lock:
            if self.double.faults:
                return self.double.faults.popleft()
        raw = envelope.original_content or envelope.content
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        with self.double.lock:
            self.double.received.append(
                Received(
                    message=message,
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    tls=session.ssl is not None,
                    login=login if session.authenticated else None,
                )
            )
        return "250 2.0.0 OK: queued"


class SmtpDouble:
    """aiosmtpd with STARTTLS and AUTH; a context manager (or `start` / `stop`)."""

    def __init__(
        self,
        directory: Path,
        user: str = USER,
        password: str = PASSWORD,
        require_starttls: bool = True,
        auth_required: bool = True,
    ) -> None:
        self.user = user
        self.password = password
        self.cert_path, key_path = write_self_signed(directory)
        self.host = HOST
        self.port = free_port()
        self.received: list[Received] = []
        self.auth_attempts: list[tuple[str, str, bool]] = []
        """(mechanism, login, accepted) of every AUTH."""
        self.faults: deque[str] = deque()
        self.lock = threading.Lock()
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.cert_path, key_path)
        self.controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            tls_context=tls,
            require_starttls=require_starttls,
            auth_required=auth_required,
            auth_require_tls=True,
            authenticator=self._authenticate,
        )

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        ok = login == self.user and auth_data.password.decode() == self.password
        with self.lock:
            self.auth_attempts.append((mechanism, login, ok))
        return AuthResult(success=ok, handled=False, auth_data=login.encode() if ok else None)

    def fail_next(self, reply: str = "451 4.3.0 Try again later", times: int = 1) -> None:
        """The next `times` DATA commands get `reply` instead of being accepted."""
        with self.lock:
            self.faults.extend([reply] * times)

    def start(self) -> SmtpDouble:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SmtpDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""Real object-store servers on loopback for the remote-logdir tests, started by the tests.

- `MotoS3Server`: moto's S3 server (`moto[server]`), as a subprocess.
- `GcsEmulator`: `gcp-storage-emulator`, as a subprocess storing on disk, so that it can be
  stopped and restarted with its data (a network outage that heals); started by
  `tests/gcs_emulator_main.py`, which makes it store uploaded bytes exactly as sent.
- `FtpServer`: pyftpdlib's FTP server, a filesystem of real directories for fsspec's ftp://.
- `TcpRelay`: a loopback TCP relay in front of a server: counts the bytes clients send, and
  can refuse connections for a while (the network failing mid-run, the server keeping state).
- `GoogleStorageProxy`: TensorFlow's GCS filesystem ignores STORAGE_EMULATOR_HOST and talks to
  https://storage.googleapis.com and https://www.googleapis.com only. It honours HTTPS_PROXY
  and CURL_CA_BUNDLE, so this loopback proxy accepts CONNECT for those hosts only, terminates
  TLS with a certificate of a CA made for the test, and forwards each request to the emulator.
  Any other host is refused: nothing leaves the machine.

Every process started with `*.env()` talks only to 127.0.0.1: the Google auth libraries are
told not to probe a metadata server (NO_GCE_CHECK, GCE_METADATA_HOST/IP on a closed port).
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import http.server
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from tests.helpers import free_port, stop_process

# A closed loopback port: where the Google auth libraries would look for a metadata server.
_NOWHERE = "127.0.0.1:9"
TEST_ACCESS_KEY = "testing"
TEST_SECRET_KEY = "testing"


def _wait_http(url: str, process: subprocess.Popen, log_path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            with open(log_path, "rb") as log:
                raise RuntimeError(f"{url} exited:\n{log.read().decode(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


class _ServerProcess:
    """A server subprocess on a fixed loopback port, restartable on the same port."""

    def __init__(self, name: str):
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix=f"{name}-")
        self._log_path = os.path.join(self.directory, "server.log")
        self._process: subprocess.Popen | None = None

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _process_env(self) -> dict[str, str]:
        return dict(os.environ)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self._log_path, "ab")
        self._process = subprocess.Popen(
            self._command(), stdout=log, stderr=subprocess.STDOUT, env=self._process_env(),
            cwd=self.directory,
        )  # fmt: skip
        log.close()
        _wait_http(self.endpoint + "/", self._process, self._log_path)

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)
        self._process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class MotoS3Server(_ServerProcess):
    """moto's S3 server. With `enforce_auth`, every request must be signed by a known IAM
    user's key (moto's INITIAL_NO_AUTH_ACTION_COUNT=0): any other key is refused."""

    def __init__(self, *, enforce_auth: bool = False):
        super().__init__("moto-s3")
        self.enforce_auth = enforce_auth

    def _command(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def _process_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.enforce_auth:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
        return env

    def env(self, endpoint: str | None = None) -> dict[str, str]:
        """What an S3 user sets: credentials, the endpoint for boto3/s3fs (AWS_ENDPOINT_URL)
        and for TensorBoard's own S3 reader (S3_ENDPOINT)."""
        endpoint = endpoint or self.endpoint
        return {
            "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": TEST_SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,
            "S3_ENDPOINT": endpoint,
        }

    def client(self):
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=TEST_ACCESS_KEY, aws_secret_access_key=TEST_SECRET_KEY,
        )  # fmt: skip

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def objects(self, bucket: str, prefix: str = "") -> dict[str, bytes]:
        client = self.client()
        listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
        return {
            item["Key"]: client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            for item in listing
        }


class GcsEmulator(_ServerProcess):
    """gcp-storage-emulator storing on disk: stop() and start() keep the buckets."""

    def __init__(self):
        super().__init__("gcs-emulator")

    def _command(self) -> list[str]:
        # The emulator, with its multipart uploads read byte for byte (see that file: it
        # dropped an object's last byte when that was a carriage return).
        launcher = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gcs_emulator_main.py")
        address = ["--host", "127.0.0.1", "--port", str(self.port)]
        return [sys.executable, launcher, "start", *address, "--quiet"]

    def _process_env(self) -> dict[str, str]:
        return dict(os.environ, STORAGE_BASE=self.directory)

    def env(self, endpoint: str | None = None) -> dict[str, str]:
        """What a GCS emulator user sets (STORAGE_EMULATOR_HOST), and no metadata-server
        probing by google-auth."""
        return {
            "STORAGE_EMULATOR_HOST": endpoint or self.endpoint,
            "NO_GCE_CHECK": "true",
            "GCE_METADATA_HOST": _NOWHERE,
            "GCE_METADATA_IP": _NOWHERE,
        }

    def client(self):
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project="test",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.endpoint},
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(name)
        return name

    def objects(self, bucket: str, prefix: str = "") -> dict[str, bytes]:
        client = self.client()
        return {
            blob.name: blob.download_as_bytes() for blob in client.list_blobs(bucket, prefix=prefix)
        }


class FtpServer(_ServerProcess):
    """pyftpdlib's FTP server: a filesystem with real directories (no buckets), reached through
    fsspec's own ftp:// implementation."""

    USER, PASSWORD = "tester", "secret"

    def __init__(self):
        super().__init__("ftp")
        self.root = os.path.join(self.directory, "root")
        os.makedirs(self.root)

    def _command(self) -> list[str]:
        script = (
            "import sys\n"
            "from pyftpdlib.authorizers import DummyAuthorizer\n"
            "from pyftpdlib.handlers import FTPHandler\n"
            "from pyftpdlib.servers import FTPServer\n"
            "users = DummyAuthorizer()\n"
            "users.add_user(sys.argv[1], sys.argv[2], sys.argv[3], perm='elradfmwMT')\n"
            "FTPHandler.authorizer = users\n"
            "FTPServer(('127.0.0.1', int(sys.argv[4])), FTPHandler).serve_forever()\n"
        )
        return [sys.executable, "-c", script, self.USER, self.PASSWORD, self.root, str(self.port)]

    def start(self) -> None:
        log = open(self._log_path, "ab")
        self._process = subprocess.Popen(
            self._command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.directory
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return
            time.sleep(0.1)
        raise TimeoutError("the FTP server did not start")

    def url(self, path: str) -> str:
        return f"ftp://{self.USER}:{self.PASSWORD}@127.0.0.1:{self.port}/{path}"


class TcpRelay:
    """Relays loopback TCP connections to `target_port`, counting the bytes clients send.
    `cut()` drops every open connection and refuses new ones until `restore()`."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.bytes_sent = 0
        self._lock = threading.Lock()
        self._open = True
        self._connections: set[socket.socket] = set()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, count: bool) -> None:
        try:
            while True:
                data = source.recv(1 << 16)
                if not data:
                    break
                if count:
                    with self._lock:
                        self.bytes_sent += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
            with self._lock:
                self._connections.discard(source)
                self._connections.discard(sink)

    def cut(self) -> None:
        self._open = False
        with self._lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        self._open = True

    def close(self) -> None:
        self.cut()
        self._listener.close()


GOOGLE_STORAGE_HOSTS = ("storage.googleapis.com", "www.googleapis.com")


def _test_certificates(directory: str) -> tuple[str, str, str]:
    """A CA made for this test and a server certificate it signed for GOOGLE_STORAGE_HOSTS:
    (CA file, certificate file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    valid = dict(
        not_valid_before=now - datetime.timedelta(hours=1),
        not_valid_after=now + datetime.timedelta(days=1),
    )
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tb-perclass test CA")])
    ca = (
        x509.CertificateBuilder(subject_name=ca_name, issuer_name=ca_name, **valid)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, GOOGLE_STORAGE_HOSTS[0])])
    leaf = (
        x509.CertificateBuilder(subject_name=leaf_name, issuer_name=ca_name, **valid)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(h) for h in GOOGLE_STORAGE_HOSTS]), False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = [os.path.join(directory, name) for name in ("ca.pem", "server.pem", "server.key")]
    for path, data in zip(
        paths,
        (
            ca.public_bytes(pem),
            leaf.public_bytes(pem),
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        ),
    ):
        with open(path, "wb") as handle:
            handle.write(data)
    return paths[0], paths[1], paths[2]


class GoogleStorageProxy:
    """See the module docstring. `forwarded` lists (method, path, status) of every request
    relayed; `refused` every CONNECT to another host."""

    def __init__(self, emulator_port: int):
        self.directory = tempfile.mkdtemp(prefix="gcs-proxy-")
        self.ca_file, certificate, key = _test_certificates(self.directory)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(certificate, key)
        tls.set_alpn_protocols(["http/1.1"])
        self.forwarded: list[tuple[str, str, int]] = []
        self.refused: list[str] = []
        proxy = self

        class Relay(http.server.BaseHTTPRequestHandler):
            """One decrypted tunnel: each request goes to the emulator."""

            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v for k, v in self.headers.items()
                    if k.lower() not in ("host", "connection", "authorization", "proxy-connection")
                }  # fmt: skip
                upstream = http.client.HTTPConnection("127.0.0.1", emulator_port, timeout=30)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                finally:
                    upstream.close()
                proxy.forwarded.append((self.command, self.path, response.status))
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding",
                                            "server", "date"):  # fmt: skip
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = relay

        class Tunnels(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_CONNECT(self) -> None:
                host = self.path.rsplit(":", 1)[0]
                if host not in GOOGLE_STORAGE_HOSTS:
                    proxy.refused.append(self.path)
                    self.send_error(403, "this test proxy answers Google storage hosts only")
                    return
                self.send_response(200, "Connection established")
                self.end_headers()
                try:
                    tunnel = tls.wrap_socket(self.connection, server_side=True)
                    Relay(tunnel, self.client_address, self.server)
                except (ssl.SSLError, OSError):
                    pass
                self.close_connection = True

            def do_GET(self) -> None:
                proxy.refused.append(self.path)
                self.send_error(403, "this test proxy only tunnels")

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Tunnels)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def env(self) -> dict[str, str]:
        """For a TensorFlow process: its GCS traffic through this proxy, our CA trusted, and
        TensorFlow's test token instead of an OAuth exchange."""
        return {
            "HTTPS_PROXY": self.url,
            "https_proxy": self.url,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "CURL_CA_BUNDLE": self.ca_file,
            "GOOGLE_AUTH_TOKEN_FOR_TESTING": "test-token",
        }

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Sets environment variables for the duration of a block."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

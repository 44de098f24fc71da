"""TLS, compared with a private redis-server started with the same flags: each server gets a
plain port and a TLS port side by side, with certificates the openssl command makes for the
test (see tls_certs.py). Clients: raw RESP over Python's ssl module (replies compared byte for
byte), redis-cli --tls and redis-py with ssl=True. Covered: mutual TLS (`tls-auth-clients yes`
refuses a client without a certificate, `optional` admits it), an encrypted key, protocols and
ciphers, CONFIG SET of the tls-* parameters (a bad file keeps the old context, a good one is
used by new connections, tls-port moves the listener) and the start-up failures.
"""

from __future__ import annotations

import contextlib
import ssl
import subprocess

import pytest
import redis

import resp
from diff import Diff, shape
from procs import spawn
from servers import free_port
from tls_certs import KEY_PASSWORD, make_certificates

REDIS_CLI = "/usr/bin/redis-cli"


@pytest.fixture(scope="module")
def certs():
    made = make_certificates()
    yield made
    made.cleanup()




def tls_flags(certs, auth: str = "no") -> list[str]:
    return ["--tls-cert-file", certs.server_cert, "--tls-key-file", certs.server_key, "--tls-ca-cert-file", certs.ca,
            "--tls-auth-clients", auth]


@contextlib.contextmanager
def tls_servers(*flags):
    """A redis-server and an Atoll with `flags`, each also on a TLS port of its own (`tls_port`)."""
    ref_port, atoll_port = free_port(), free_port()
    with spawn("redis", "--tls-port", ref_port, *flags) as r, spawn("atoll", "--tls-port", atoll_port, *flags) as a:
        r.tls_port, a.tls_port = ref_port, atoll_port
        yield r, a


def tls_conn(port: int, certs, client_certificate: bool = False, minimum=None, maximum=None,
             ciphers: str | None = None, stranger: bool = False, source: str | None = None) -> resp.Conn:
    """A raw RESP connection over TLS to 127.0.0.1:`port`, checking the server against the test CA;
    with the CA's client certificate, or with `stranger` a self-signed one."""
    context = ssl.create_default_context(cafile=certs.ca)
    if client_certificate:
        context.load_cert_chain(certs.client_cert, certs.client_key)
    if stranger:
        context.load_cert_chain(certs.stranger_cert, certs.stranger_key)
    if minimum:
        context.minimum_version = minimum
    if maximum:
        context.maximum_version = maximum
    if ciphers:
        context.set_ciphers(ciphers)
    conn = resp.Conn(port, source=source)
    conn.sock = context.wrap_socket(conn.sock, server_hostname="localhost")
    return conn


@contextlib.contextmanager
def tls_diff(r, a, certs, **options):
    ref, atoll = tls_conn(r.tls_port, certs, **options), tls_conn(a.tls_port, certs, **options)
    try:
        yield Diff(ref, atoll)
    finally:
        ref.close()
        atoll.close()


def served(port: int, certs, **options) -> bool:
    """Whether a TLS client with `options` gets PONG (False when the handshake or the reply fails)."""
    try:
        with tls_conn(port, certs, **options) as conn:
            return conn.command("PING") == b"+PONG\r\n"
    except (ssl.SSLError, OSError, resp.ConnectionClosed):
        return False


def redis_cli(port: int, certs, *args: str, client_certificate: bool = False) -> subprocess.CompletedProcess:
    argv = [REDIS_CLI, "-h", "127.0.0.1", "-p", str(port), "--tls", "--cacert", certs.ca]
    if client_certificate:
        argv += ["--cert", certs.client_cert, "--key", certs.client_key]
    return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=30)


def test_raw_replies_over_tls_and_plain_ports_side_by_side(certs):
    with tls_servers(*tls_flags(certs)) as (r, a):
        with tls_diff(r, a, certs) as d:
            d.run([
                "PING",
                "SET k hello",
                "GET k",
                "INCR n",
                shape("HELLO 3"),  # the client ids differ
                "HGETALL nosuch",
                "CONFIG GET tls-auth-clients",
                "CONFIG GET tls-protocols",
                "NOSUCH command",
            ])
            d.check_pipeline([("SET", f"p{i}", "v" * i) for i in range(50)] + [("MGET", "p1", "p49")])
        # What the TLS clients wrote, the plain port reads.
        with resp.Conn(r.port) as ref, resp.Conn(a.port) as atoll:
            d = Diff(ref, atoll)
            d.run(["GET k", "GET p49", "DBSIZE"])


def test_protected_mode_applies_to_tls_clients(certs):
    """A TLS client from 127.0.0.2 (loopback, but not local to Redis) gets the DENIED reply."""
    with tls_servers(*tls_flags(certs)) as (r, a):
        received = []
        for server in (r, a):
            with tls_conn(server.tls_port, certs, source="127.0.0.2") as conn:
                data = b""
                for _ in range(100):
                    try:
                        chunk = conn.sock.recv(65536)
                    except (ssl.SSLError, OSError):
                        break
                    if not chunk:
                        break
                    data += chunk
                received.append(data)
        assert received[0].startswith(b"-DENIED Redis is running in protected mode")
        assert received[1] == received[0]


def test_redis_cli_over_tls(certs):
    with tls_servers(*tls_flags(certs)) as (r, a):
        for args in [("PING",), ("SET", "k", "v"), ("GET", "k"), ("CONFIG", "GET", "tls-port"), ("LPUSH", "l", "a", "b"),
                     ("LRANGE", "l", "0", "-1"), ("GET", "nosuch")]:
            ref, atoll = redis_cli(r.tls_port, certs, *args), redis_cli(a.tls_port, certs, *args)
            if args == ("CONFIG", "GET", "tls-port"):
                assert atoll.stdout == f"tls-port\n{a.tls_port}\n", atoll
                continue
            assert (atoll.returncode, atoll.stdout, atoll.stderr) == (ref.returncode, ref.stdout, ref.stderr), args


def test_redis_py_with_ssl(certs):
    with tls_servers(*tls_flags(certs)) as (r, a):
        results = []
        for server in (r, a):
            client = redis.Redis(host="127.0.0.1", port=server.tls_port, ssl=True, ssl_ca_certs=certs.ca,
                                 socket_timeout=10)
            try:
                client.set("k", "v", ex=100)
                pipe = client.pipeline()
                pipe.incr("n").incr("n").get("k").ttl("k")
                results.append((client.ping(), client.get("k"), pipe.execute(), client.exists("k", "nosuch")))
            finally:
                client.close()
        assert results[0] == results[1] == (True, b"v", [1, 2, b"v", 100], 1)


def test_mutual_tls_refuses_a_client_without_a_certificate(certs):
    with tls_servers(*tls_flags(certs, auth="yes")) as (r, a):
        for server in (r, a):
            assert not served(server.tls_port, certs), server.kind
            assert not served(server.tls_port, certs, stranger=True), server.kind
            assert served(server.tls_port, certs, client_certificate=True), server.kind
        with tls_diff(r, a, certs, client_certificate=True) as d:
            d.run(["PING", "SET k v", "GET k", "CONFIG GET tls-auth-clients"])
        ref = redis_cli(r.tls_port, certs, "PING", client_certificate=True)
        atoll = redis_cli(a.tls_port, certs, "PING", client_certificate=True)
        assert ref.stdout == atoll.stdout == "PONG\n"
        for server in (r, a):
            refused = redis_cli(server.tls_port, certs, "PING")
            assert refused.stdout != "PONG\n", (server.kind, refused)
        # redis-py with a client certificate.
        for server in (r, a):
            client = redis.Redis(host="127.0.0.1", port=server.tls_port, ssl=True, ssl_ca_certs=certs.ca,
                                 ssl_certfile=certs.client_cert, ssl_keyfile=certs.client_key, socket_timeout=10)
            try:
                assert client.get("k") == b"v", server.kind
            finally:
                client.close()


def test_a_ca_directory_instead_of_a_ca_file(certs, tmp_path):
    directory = tmp_path / "cas"
    directory.mkdir()
    (directory / "ca.pem").write_bytes(open(certs.ca, "rb").read())
    subprocess.run(["openssl", "rehash", str(directory)], check=True, capture_output=True, timeout=60)
    flags = ["--tls-cert-file", certs.server_cert, "--tls-key-file", certs.server_key, "--tls-ca-cert-dir", str(directory),
             "--tls-auth-clients", "yes"]
    with tls_servers(*flags) as (r, a):
        for server in (r, a):
            assert served(server.tls_port, certs, client_certificate=True), server.kind
            assert not served(server.tls_port, certs), server.kind


def test_optional_client_authentication_admits_both(certs):
    with tls_servers(*tls_flags(certs, auth="optional")) as (r, a):
        for server in (r, a):
            assert served(server.tls_port, certs), server.kind
            assert served(server.tls_port, certs, client_certificate=True), server.kind
            # A certificate that is shown is checked.
            assert not served(server.tls_port, certs, stranger=True), server.kind


def test_config_set_tls_auth_clients_applies_to_new_connections(certs):
    with tls_servers(*tls_flags(certs)) as (r, a):
        with tls_diff(r, a, certs) as d:
            d.run(["CONFIG SET tls-auth-clients yes", "CONFIG GET tls-auth-clients", "PING"])
        for server in (r, a):
            assert not served(server.tls_port, certs), server.kind
            assert served(server.tls_port, certs, client_certificate=True), server.kind


def test_an_encrypted_key_with_its_password(certs):
    flags = ["--tls-cert-file", certs.server_cert, "--tls-key-file", certs.encrypted_server_key,
             "--tls-key-file-pass", KEY_PASSWORD, "--tls-auth-clients", "no"]
    with tls_servers(*flags) as (r, a):
        for server in (r, a):
            assert served(server.tls_port, certs), server.kind


def test_protocols_and_ciphers(certs):
    flags = tls_flags(certs) + ["--tls-protocols", "TLSv1.2", "--tls-ciphers", "ECDHE-RSA-AES128-GCM-SHA256"]
    with tls_servers(*flags) as (r, a):
        for server in (r, a):
            assert not served(server.tls_port, certs, minimum=ssl.TLSVersion.TLSv1_3), server.kind
            with tls_conn(server.tls_port, certs) as conn:
                assert conn.command("PING") == b"+PONG\r\n"
                assert conn.sock.version() == "TLSv1.2"
                assert conn.sock.cipher()[0] == "ECDHE-RSA-AES128-GCM-SHA256", server.kind
            # A client offering only other suites finds none in common.
            assert not served(server.tls_port, certs, maximum=ssl.TLSVersion.TLSv1_2,
                              ciphers="ECDHE-RSA-AES256-GCM-SHA384"), server.kind


def test_config_set_keeps_the_old_context_on_a_bad_file_and_takes_a_good_one(certs):
    with tls_servers(*tls_flags(certs)) as (r, a):
        with resp.Conn(r.port) as ref, resp.Conn(a.port) as atoll:
            d = Diff(ref, atoll)
            d.run([
                "CONFIG SET tls-cert-file /nonexistent/cert.pem",
                "CONFIG SET tls-key-file /nonexistent/key.pem tls-cert-file /nonexistent/cert.pem",
                ("CONFIG", "SET", "tls-key-file", certs.ca),
                "CONFIG SET tls-protocols TLSv1.4",
                "CONFIG SET tls-ciphers BOGUS",
                "CONFIG SET tls-ciphers BOGUS:AES128-SHA",
                "CONFIG SET tls-ciphers ''",
                "CONFIG SET tls-ciphersuites BOGUS",
                "CONFIG SET tls-ciphersuites TLS_AES_128_GCM_SHA256:BOGUS",
                "CONFIG SET tls-ca-cert-file /nonexistent/ca.pem",
                "CONFIG SET tls-auth-clients optional tls-ca-cert-file ''",
                "CONFIG SET tls-replication yes",
                "CONFIG GET tls-replication",
                "CONFIG SET tls-session-caching no tls-session-cache-size 10 tls-prefer-server-ciphers yes",
            ])
            for server in (r, a):
                assert served(server.tls_port, certs), server.kind
            d.check("CONFIG", "SET", "tls-cert-file", certs.other_server_cert, "tls-key-file", certs.other_server_key)
            for server in (r, a):
                with tls_conn(server.tls_port, certs) as conn:
                    assert conn.command("PING") == b"+PONG\r\n"
                    presented = conn.sock.getpeercert(binary_form=True)
                with open(certs.other_server_cert) as f:
                    assert presented == ssl.PEM_cert_to_DER_cert(f.read()), server.kind


def test_config_set_tls_port_moves_the_listener(certs):
    with tls_servers(*tls_flags(certs)) as (r, a):
        for server in (r, a):
            old = server.tls_port
            new = free_port()
            with resp.Conn(server.port) as conn:
                assert conn.command("CONFIG", "SET", "tls-port", str(new)) == b"+OK\r\n"
                # A port in use cannot be listened on.
                assert conn.command("CONFIG", "SET", "tls-port", str(server.port)) == \
                    b"-ERR CONFIG SET failed (possibly related to argument 'tls-port') - Unable to listen on this port. Check server logs.\r\n"
                assert served(new, certs), server.kind
                assert not served(old, certs), server.kind
                assert conn.command("CONFIG", "SET", "tls-port", "0") == b"+OK\r\n"
                assert not served(new, certs), server.kind


@pytest.mark.parametrize("case, lines", [
    ("no certificate", ["No tls-cert-file configured!"]),
    ("missing certificate", ["Failed to load certificate: /nonexistent/cert.pem: "]),
    ("no CA with auth", ["Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
                         "tls-replication or tls-auth-clients are enabled!"]),
    ("bad protocols", ["Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'."]),
])
def test_start_fails_as_redis_when_tls_cannot_be_set_up(certs, case, lines):
    flags = {
        "no certificate": [],
        "missing certificate": ["--tls-cert-file", "/nonexistent/cert.pem", "--tls-key-file", certs.server_key,
                                "--tls-auth-clients", "no"],
        "no CA with auth": ["--tls-cert-file", certs.server_cert, "--tls-key-file", certs.server_key],
        "bad protocols": tls_flags(certs) + ["--tls-protocols", "TLSv1.2 SSLv3"],
    }[case]
    for kind in ("redis", "atoll"):
        with spawn(kind, "--tls-port", free_port(), *flags, ready=False) as p:
            assert p.wait_exit(20.0) == 1, p.logs()
            for line in lines + ["Failed to configure TLS. Check logs for more info."]:
                assert line in p.stdout_text(), (kind, line, p.logs())

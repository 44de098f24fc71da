"""Seeded, bounded fuzzing of Atoll's request parser.

Random and mutated RESP/inline inputs (byte flips, insertions, deletions,
truncations, absurd lengths like ``*2147483648`` or ``$999999999999``) are
sent, each on a fresh connection with short timeouts. Most connections are
half-closed after sending so the server's EOF handling ends them quickly;
some are reset abruptly, some are left open until a short read timeout.
After every 50 inputs and at the end a fresh connection must get +PONG.

ATOLL_FUZZ_SEED and ATOLL_FUZZ_N override the seed (default 20240501) and the
number of inputs (default 300). A failure message lists the recent inputs.
"""

import os
import random
import socket
import struct

import resp

SEED = int(os.environ.get("ATOLL_FUZZ_SEED", "20240501"))
N_INPUTS = int(os.environ.get("ATOLL_FUZZ_N", "300"))
READ_TIMEOUT = 0.3

CORPUS = [
    resp.encode("PING"),
    resp.encode("SET", "key", "value"),
    resp.encode("SET", "k", "v", "EX", "100", "NX", "GET"),
    resp.encode("GET", "key"),
    resp.encode("MSET", "a", "1", "b", "2", "c", "3"),
    resp.encode("MGET", "a", "b", "c"),
    resp.encode("INCRBYFLOAT", "f", "1.5e3"),
    resp.encode("SETRANGE", "s", "10", "xyz"),
    resp.encode("GETRANGE", "s", "-5", "-1"),
    resp.encode("LCS", "a", "b", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"),
    resp.encode("EXPIRE", "key", "100", "GT"),
    resp.encode("SCAN", "0", "MATCH", "*", "COUNT", "10"),
    resp.encode("KEYS", "h[a-z]*\\?"),
    resp.encode("HELLO", "3"),
    resp.encode("CLIENT", "SETNAME", "fuzz"),
    resp.encode("SELECT", "3"),
    resp.encode("ECHO", bytes(range(256))),
    b"PING\r\n",
    b"SET a \"hello \\x41 world\"\r\n",
    b"ECHO 'single \\' quoted'\r\n",
    b"*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n*1\r\n$4\r\nPING\r\n",
]

HUGE = [b"*2147483648\r\n", b"$999999999999\r\n", b"*1\r\n$999999999999\r\n",
        b"*-2147483649\r\n", b"*1048576\r\n", b"*1\r\n$536870912\r\n",
        b"*99999999999999999999999\r\n", b"*1\r\n$-9223372036854775809\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2147483647\r\n", b"*0\r\n", b"*-1\r\n"]

SPECIAL = b"*$+-:_,#!=(%~>|\r\n\"' \\\x00\xff0123456789"


def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        pos = rng.randrange(len(b) + 1)
        if op == 0 and b:           # flip bits in one byte
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:               # insert random / special bytes
            n = rng.randint(1, 8)
            b[pos:pos] = bytes(rng.choice(SPECIAL) for _ in range(n))
        elif op == 2 and b:         # delete a range
            end = min(len(b), pos + rng.randint(1, 8))
            del b[pos:end]
        elif op == 3:               # truncate
            b = b[:pos]
        elif op == 4:               # duplicate a chunk
            end = min(len(b), pos + rng.randint(1, 16))
            b[pos:pos] = b[pos:end]
        elif op == 5:               # replace a digit run with an extreme number
            digits = [i for i, c in enumerate(b) if 48 <= c <= 57]
            if digits:
                i = rng.choice(digits)
                num = rng.choice([b"-1", b"0", b"2147483648", b"999999999999",
                                  b"-9223372036854775808", b"18446744073709551616"])
                b[i:i + 1] = num
        else:                       # overwrite a byte with a RESP type byte
            if b:
                b[rng.randrange(len(b))] = rng.choice(SPECIAL)
    return bytes(b)


def _random_input(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.55:
        return _mutate(rng, rng.choice(CORPUS))
    if kind < 0.70:
        return rng.choice(HUGE) + _mutate(rng, rng.choice(CORPUS))[: rng.randint(0, 40)]
    if kind < 0.85:
        return bytes(rng.choice(SPECIAL) for _ in range(rng.randint(1, 64)))
    if kind < 0.95:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 256)))
    # several pipelined (possibly mutated) requests
    return b"".join(_mutate(rng, rng.choice(CORPUS)) if rng.random() < 0.3
                    else rng.choice(CORPUS) for _ in range(rng.randint(2, 10)))


def _send_one(port: int, data: bytes, mode: str) -> None:
    s = socket.create_connection(("127.0.0.1", port), timeout=2.0)
    try:
        s.settimeout(READ_TIMEOUT)
        try:
            s.sendall(data)
        except OSError:
            return  # server already closed on us: fine
        if mode == "abort":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        if mode == "shutdown":
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                return
        total = 0
        while total < 1 << 20:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, OSError):
                return
            if not chunk:
                return
            total += len(chunk)
    finally:
        s.close()


def _assert_alive(port: int, recent: list) -> None:
    try:
        with resp.Conn(port, timeout=3.0) as c:
            reply = c.command("PING")
    except Exception as e:  # noqa: BLE001 - any failure means the server is unhealthy
        reply = f"<{e!r}>"
    assert reply == b"+PONG\r\n", (
        f"server unhealthy after fuzz inputs (seed {SEED}); PING -> {reply!r}\n"
        "recent inputs (mode, bytes):\n" + "\n".join(f"  {m} {d[:300]!r}" for m, d in recent))


def test_fuzz_parser(atoll_port):
    rng = random.Random(SEED)
    recent = []
    for i in range(1, N_INPUTS + 1):
        data = _random_input(rng)
        mode = rng.choices(["shutdown", "abort", "open"], weights=[80, 15, 5])[0]
        recent.append((mode, data))
        _send_one(atoll_port, data, mode)
        if i % 50 == 0:
            _assert_alive(atoll_port, recent)
            recent = []
    _assert_alive(atoll_port, recent)

#!/usr/bin/env python3
"""Writes data/redis-7.0.15-commands.json: every command and subcommand of a redis-server
7.0.15, as its COMMAND INFO and COMMAND DOCS describe them (arity, flags, key positions, ACL
categories, tips, key specs; summary, since, group, complexity, history, arguments).

This file is the source of Atoll's command table (scripts/dev/gen-command-table.py turns it
into Swift). Run it after upgrading the reference server:

    scripts/dev/dump-redis-commands.py [--redis-server /usr/bin/redis-server] [--out PATH]

It starts its own redis-server on a free loopback port and stops it afterwards. Commands are
sorted by name (Redis lists them in hash order, which changes from run to run).
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "data", "redis-7.0.15-commands.json")


class Reader:
    """A RESP3 reader that keeps maps as ordered pairs."""

    def __init__(self, sock):
        self.f = sock.makefile("rb")

    def read(self):
        line = self.f.readline()[:-2]
        kind, rest = chr(line[0]), line[1:]
        if kind in "+":
            return rest.decode()
        if kind == "-":
            raise RuntimeError(rest.decode())
        if kind == ":":
            return int(rest)
        if kind == "$":
            return self.f.read(int(rest) + 2)[:-2].decode()
        if kind in "*~":
            return [self.read() for _ in range(int(rest))]
        if kind == "%":
            return [(self.read(), self.read()) for _ in range(int(rest))]
        if kind == "_":
            return None
        raise RuntimeError(f"unexpected RESP type {kind!r}")


def command(sock, reader, *args):
    sock.sendall(b"".join([f"*{len(args)}\r\n".encode()] + [f"${len(a)}\r\n{a}\r\n".encode() for a in args]))
    return reader.read()


def ordered(pairs):
    """A RESP3 map (list of pairs) as a dict, recursively for nested maps."""
    return {k: ordered(v) if _is_map(v) else v for k, v in pairs}


def _is_map(v):
    return isinstance(v, list) and v and all(isinstance(p, tuple) and len(p) == 2 for p in v)


def key_spec(pairs):
    spec = ordered(pairs)
    for part in ("begin_search", "find_keys"):
        if spec[part].get("spec") == []:
            spec[part]["spec"] = {}
    return spec


def docs_entry(pairs):
    """One command's COMMAND DOCS map, without its subcommands (kept beside it)."""
    docs = {}
    for k, v in pairs:
        if k == "subcommands":
            continue
        docs[k] = arguments(v) if k == "arguments" else v
    return docs


def arguments(args):
    out = []
    for pairs in args:
        arg = {}
        for k, v in pairs:
            arg[k] = arguments(v) if k == "arguments" else v
        out.append(arg)
    return out


def entry(info, docs_by_name):
    name, arity, flags, first, last, step, acl, tips, specs, subs = info
    return {
        "name": name,
        "arity": arity,
        "flags": flags,
        "key_positions": [first, last, step],
        "acl_categories": acl,
        "tips": tips,
        "key_specs": [key_spec(s) for s in specs],
        "docs": docs_entry(docs_by_name[name]),
        "subcommands": sorted((entry(s, docs_by_name) for s in subs), key=lambda e: e["name"]),
    }


def collect_docs(pairs, into):
    for name, doc in pairs:
        into[name] = doc
        for k, v in doc:
            if k == "subcommands":
                collect_docs(v, into)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--redis-server", default="/usr/bin/redis-server")
    ap.add_argument("--out", default=DEFAULT_OUT)
    opts = ap.parse_args()
    version = subprocess.run([opts.redis_server, "--version"], capture_output=True, text=True).stdout.strip()
    port = free_port()
    proc = subprocess.Popen([opts.redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--daemonize", "no"], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("redis-server did not start")
        reader = Reader(sock)
        command(sock, reader, "HELLO", "3")
        infos = command(sock, reader, "COMMAND")
        docs = {}
        collect_docs(command(sock, reader, "COMMAND", "DOCS"), docs)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    commands = sorted((entry(i, docs) for i in infos), key=lambda e: e["name"])
    data = {"source": version, "commands": commands}
    with open(opts.out, "w") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{len(commands)} commands written to {opts.out}")


if __name__ == "__main__":
    main()

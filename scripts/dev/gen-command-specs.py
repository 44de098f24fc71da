#!/usr/bin/env python3
"""Prints Swift `CommandSpec` declarations for the named commands, read from a running
redis-server's COMMAND INFO, so Atoll's command table starts from the reference's facts
(arity, flags, ACL categories, key positions, key specs, tips, subcommands).

Usage: gen-command-specs.py PORT get set ...   (handler names are derived from the command name)
"""
import socket
import sys


def read_reply(f):
    line = f.readline()[:-2]
    t, rest = chr(line[0]), line[1:]
    if t in "+":
        return rest.decode()
    if t == "-":
        raise RuntimeError(rest.decode())
    if t == ":":
        return int(rest)
    if t == "$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode()
    if t == "*":
        n = int(rest)
        return None if n < 0 else [read_reply(f) for _ in range(n)]
    raise RuntimeError("unexpected " + t)


def command_info(port, names):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    f = s.makefile("rb")
    args = ["COMMAND", "INFO", *names]
    s.sendall(b"".join([f"*{len(args)}\r\n".encode()] + [f"${len(a)}\r\n{a}\r\n".encode() for a in args]))
    return read_reply(f)


def swift_name(name):
    parts = name.replace("|", "-").replace("_", "-").split("-")
    return parts[0] + "".join(p.capitalize() for p in parts[1:])


def kv(lst):
    return {lst[i]: lst[i + 1] for i in range(0, len(lst), 2)}


def key_spec(spec):
    d = kv(spec)
    flags = ", ".join(f'"{x}"' for x in d["flags"])
    b = kv(d["begin_search"][3]) if d["begin_search"][1] != "unknown" else {}
    if d["begin_search"][1] == "index":
        begin = f".index({b['index']})"
    elif d["begin_search"][1] == "keyword":
        begin = f'.keyword("{b["keyword"]}", startFrom: {b["startfrom"]})'
    else:
        begin = ".unknown"
    fk = d["find_keys"]
    s = kv(fk[3]) if fk[1] != "unknown" else {}
    if fk[1] == "range":
        find = f".range(lastKey: {s['lastkey']}, step: {s['keystep']}, limit: {s['limit']})"
    elif fk[1] == "keynum":
        find = f".keynum(index: {s['keynumidx']}, firstKey: {s['firstkey']}, step: {s['keystep']})"
    else:
        find = ".unknown"
    notes = f', notes: "{d["notes"]}"' if "notes" in d else ""
    return f"KeySpec(flags: [{flags}], begin: {begin}, find: {find}{notes})"


def render(info, indent="    "):
    name, arity, flags, first, last, step, acl, tips, specs, subs = info
    handler = swift_name(name)
    fl = ", ".join("." + swift_name(f) for f in flags)
    acls = ", ".join(f'"{a[1:]}"' for a in acl)
    parts = [f'"{name}"', f"arity: {arity}", f"flags: [{fl}]", f"acl: [{acls}]"]
    if first:
        parts.append(f"keys: ({first}, {last}, {step})")
    if tips:
        parts.append("tips: [" + ", ".join(f'"{t}"' for t in tips) + "]")
    if specs:
        parts.append("keySpecs: [" + ", ".join(key_spec(s) for s in specs) + "]")
    if subs:
        inner = (",\n").join(indent + "    " + render(s, indent + "    ") for s in subs)
        parts.append("subcommands: [\n" + inner + ",\n" + indent + "]")
    else:
        parts.append(f"run: {handler}")
    return "CommandSpec(" + ", ".join(parts) + ")"


if __name__ == "__main__":
    port = int(sys.argv[1])
    for info in command_info(port, sys.argv[2:]):
        if info is None:
            continue
        print("        " + render(info, "        ") + ",")

#!/usr/bin/env python3
"""Turns the command data (data/redis-7.0.15-commands.json, written by dump-redis-commands.py,
and data/newer-commands.json, written by hand from redis.io) into
Sources/AtollCore/CommandFacts+Reference.generated.swift.

    scripts/dev/gen-command-table.py          # writes the Swift file
    scripts/dev/gen-command-table.py --check  # exits 1 when the Swift file is not what the data gives

The generated file is checked in and never edited by hand.
"""
import argparse
import json
import os
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DATA = [os.path.join(ROOT, "data", "redis-7.0.15-commands.json"), os.path.join(ROOT, "data", "newer-commands.json")]
OUT = os.path.join(ROOT, "Sources", "AtollCore", "CommandFacts+Reference.generated.swift")

# COMMAND DOCS writes these fields in this order (Redis 7.0's addReplyCommandDocs and
# addReplyCommandArgList); the Swift side writes them in the same order, so the data must agree.
DOC_FIELDS = ["summary", "since", "group", "complexity", "doc_flags", "deprecated_since", "replaced_by",
              "history", "arguments"]
ARG_FIELDS = ["name", "type", "key_spec_index", "token", "summary", "since", "deprecated_since", "flags",
              "arguments"]
FLAGS = {
    "write": "write", "readonly": "readonly", "denyoom": "denyoom", "module": "module", "admin": "admin",
    "pubsub": "pubsub", "noscript": "noscript", "blocking": "blocking", "loading": "loading", "stale": "stale",
    "skip_monitor": "skipMonitor", "skip_slowlog": "skipSlowlog", "asking": "asking", "fast": "fast",
    "no_auth": "noAuth", "may_replicate": "mayReplicate", "no_mandatory_keys": "noMandatoryKeys",
    "no_async_loading": "noAsyncLoading", "no_multi": "noMulti", "movablekeys": "movablekeys",
    "allow_busy": "allowBusy",
}


def swift_string(s):
    out = []
    for ch in s:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x20:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def strings(items):
    return "[" + ", ".join(swift_string(i) for i in items) + "]"


def check_order(keys, known, what):
    unknown = [k for k in keys if k not in known]
    if unknown:
        sys.exit(f"{what}: fields {unknown} are not modelled; extend the generator and CommandDocs")
    positions = [known.index(k) for k in keys]
    if positions != sorted(positions):
        sys.exit(f"{what}: fields {keys} are not in Redis's order {known}")


def key_spec(spec):
    begin, find = spec["begin_search"], spec["find_keys"]
    if begin["type"] == "index":
        b = f".index({begin['spec']['index']})"
    elif begin["type"] == "keyword":
        b = f".keyword({swift_string(begin['spec']['keyword'])}, startFrom: {begin['spec']['startfrom']})"
    else:
        b = ".unknown"
    if find["type"] == "range":
        s = find["spec"]
        f = f".range(lastKey: {s['lastkey']}, step: {s['keystep']}, limit: {s['limit']})"
    elif find["type"] == "keynum":
        s = find["spec"]
        f = f".keynum(index: {s['keynumidx']}, firstKey: {s['firstkey']}, step: {s['keystep']})"
    else:
        f = ".unknown"
    notes = f", notes: {swift_string(spec['notes'])}" if "notes" in spec else ""
    return f"KeySpec(flags: {strings(spec['flags'])}, begin: {b}, find: {f}{notes})"


def argument(arg, indent, where):
    check_order(list(arg), ARG_FIELDS, where)
    parts = [swift_string(arg["name"]), swift_string(arg["type"])]
    if "key_spec_index" in arg:
        parts.append(f"keySpecIndex: {arg['key_spec_index']}")
    for field, label in (("token", "token"), ("summary", "summary"), ("since", "since"),
                         ("deprecated_since", "deprecatedSince")):
        if field in arg:
            parts.append(f"{label}: {swift_string(arg[field])}")
    if "flags" in arg:
        parts.append(f"flags: {strings(arg['flags'])}")
    if "arguments" in arg:
        parts.append("arguments: " + arguments(arg["arguments"], indent, where + "/" + arg["name"]))
    return "CommandArgument(" + ", ".join(parts) + ")"


def arguments(args, indent, where):
    pad = "    " * (indent + 1)
    inner = "".join(f"{pad}{argument(a, indent + 1, where)},\n" for a in args)
    return "[\n" + inner + "    " * indent + "]"


def docs(d, where):
    check_order(list(d), DOC_FIELDS, where)
    parts = []
    for field, label in (("summary", "summary"), ("since", "since"), ("group", "group"),
                         ("complexity", "complexity")):
        if field in d:
            parts.append(f"{label}: {swift_string(d[field])}")
    if "doc_flags" in d:
        parts.append(f"docFlags: {strings(d['doc_flags'])}")
    for field, label in (("deprecated_since", "deprecatedSince"), ("replaced_by", "replacedBy")):
        if field in d:
            parts.append(f"{label}: {swift_string(d[field])}")
    if "history" in d:
        parts.append("history: [" + ", ".join(f"({swift_string(v)}, {swift_string(t)})" for v, t in d["history"]) + "]")
    if "arguments" in d:
        parts.append("arguments: " + arguments(d["arguments"], 2, where))
    return "CommandDocs(" + ", ".join(parts) + ")"


def identifier(name):
    return "`" + name.replace("|", "_").replace("-", "_") + "`"


def entry(c):
    flags = "[" + ", ".join("." + FLAGS[f] for f in c["flags"]) + "]"
    acl = strings(a.lstrip("@") for a in c["acl_categories"])
    first, last, step = c["key_positions"]
    fields = [swift_string(c["name"]), f"arity: {c['arity']}", f"flags: {flags}", f"acl: {acl}",
              f"keys: ({first}, {last}, {step})"]
    if c["tips"]:
        fields.append(f"tips: {strings(c['tips'])}")
    if c["key_specs"]:
        fields.append("keySpecs: [" + ", ".join(key_spec(k) for k in c["key_specs"]) + "]")
    fields.append("docs: " + docs(c["docs"], c["name"]))
    return f"    static let {identifier(c['name'])} = CommandFacts(\n        " + ",\n        ".join(fields) + ")\n"


def flatten(commands):
    for c in commands:
        yield c
        yield from flatten(c["subcommands"])


def generate():
    commands, sources = [], []
    for path in DATA:
        with open(path) as f:
            data = json.load(f)
        sources.append(f"{os.path.relpath(path, ROOT)} ({data['source']})")
        commands.extend(flatten(data["commands"]))
    commands.sort(key=lambda c: c["name"])
    names = [c["name"] for c in commands]
    if len(set(names)) != len(names):
        sys.exit("a command is described twice")
    lines = [
        "// GENERATED by scripts/dev/gen-command-table.py; do not edit. From:\n",
        *[f"//   {s}\n" for s in sources],
        "// Change the data (or the generator) and run the generator again; a test fails when\n",
        "// this file and the data disagree.\n",
        "\n",
        "extension CommandFacts {\n",
        "    /// Every command and subcommand the data describes, sorted by full name (`config|get`).\n",
        "    static let reference: [CommandFacts] = [\n",
        *[f"        {identifier(n)},\n" for n in names],
        "    ]\n",
        "\n",
        *[entry(c) for c in commands],
        "}\n",
    ]
    return "".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    opts = ap.parse_args()
    text = generate()
    if opts.check:
        with open(OUT) as f:
            if f.read() != text:
                sys.exit(f"{os.path.relpath(OUT, ROOT)} is not what the data gives: run {sys.argv[0]}")
        return
    with open(OUT, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()

"""Comparisons for hash and set replies whose order Redis does not fix.

* ``check_pairs(diff, *args)``   field/value replies (HGETALL, HSCAN items, HRANDFIELD
                                 WITHVALUES) compared as dicts, pairing kept;
* ``check_random(diff, args, validate)``  replies of random commands: same shape on both
                                 servers, and ``validate(parsed_reply)`` must hold for each;
* ``scan_all(diff, command, key, *opts)`` a full HSCAN/SSCAN iteration on both servers,
                                 compared as sets of items (pairs for HSCAN).
"""

from __future__ import annotations

import diff as diff_mod
import resp


def _pairs(raw: bytes) -> dict:
    value = resp.parse(raw)
    if isinstance(value, dict):
        return value
    assert isinstance(value, list) and len(value) % 2 == 0, f"not a flat pair list: {raw!r}"
    out = dict(zip(value[0::2], value[1::2]))
    assert len(out) == len(value) // 2, f"repeated field in {raw!r}"
    return out


def check_pairs(d: diff_mod.Diff, *args) -> bytes:
    """Exact bytes, or else the same aggregate type, length and field -> value mapping."""
    __tracebackhide__ = True
    r, a = d.both(*args)
    if r == a:
        return r
    if r[:1] != a[:1] or r[:1] not in b"*%":
        d._fail("Reply mismatch (pairs)", diff_mod.fmt_args(args), r, a)
    try:
        same = _pairs(r) == _pairs(a)
    except Exception as e:  # noqa: BLE001 - any parse failure is a mismatch
        d._fail(f"Unparsable reply ({e})", diff_mod.fmt_args(args), r, a)
    if not same:
        d._fail("Field/value mismatch", diff_mod.fmt_args(args), r, a)
    return r


def check_random(d: diff_mod.Diff, args, validate) -> bytes:
    """Same reply shape on both servers, and ``validate(parsed)`` accepts each reply."""
    __tracebackhide__ = True
    r, a = d.both(*args)
    desc = diff_mod.fmt_args(args)
    try:
        same_shape = diff_mod.shape_of(r) == diff_mod.shape_of(a)
        parsed_r, parsed_a = resp.parse(r), resp.parse(a)
    except Exception as e:  # noqa: BLE001
        d._fail(f"Unparsable reply ({e})", desc, r, a)
    if not same_shape:
        d._fail("Shape mismatch", desc, r, a)
    for who, raw, parsed in (("redis", r, parsed_r), ("atoll", a, parsed_a)):
        problem = validate(parsed)
        if problem:
            d._fail(f"{who} reply breaks an invariant: {problem}", desc, r, a)
    return r


def scan_all(d: diff_mod.Diff, command: str, key, *opts, max_calls: int = 10000):
    """Iterate ``command key cursor opts`` to cursor 0 on both servers; compare the items
    seen (as a dict for HSCAN, a set for SSCAN). Returns Redis's items."""
    __tracebackhide__ = True
    desc = f"full {command} {diff_mod.fmt_args((key,) + opts)}"
    d._record(desc)
    seen = []
    for conn in (d.ref, d.atoll):
        items: dict | set = {} if command.upper() == "HSCAN" else set()
        cursor = b"0"
        for _ in range(max_calls):
            conn.send_raw(resp.encode(command, key, cursor, *opts))
            raw = conn.read_reply()
            value = resp.parse(raw)
            if not isinstance(value, list):
                items = raw  # an error: compare it as it is
                break
            cursor, batch = value
            if isinstance(items, dict):
                items.update(zip(batch[0::2], batch[1::2]))
            else:
                items.update(batch)
            if cursor == b"0":
                break
        else:
            items = "<scan did not terminate>"
        seen.append(items)
    if seen[0] != seen[1]:
        d._fail("Scan items mismatch", desc, seen[0], seen[1])
    return seen[0]

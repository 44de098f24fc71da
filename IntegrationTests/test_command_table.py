"""Atoll's command table against the reference: for every command and subcommand Atoll
serves (its own COMMAND LIST), COMMAND INFO must give redis-server's name, arity, flags,
first/last/step key positions, ACL categories, tips and key specs."""
import resp


def _info(conn, name: str):
    reply = resp.parse(conn.command("COMMAND", "INFO", name))
    assert isinstance(reply, list) and len(reply) == 1
    return reply[0]


def test_every_atoll_command_matches_reference(ref_conn, atoll_conn):
    names = resp.parse(atoll_conn.command("COMMAND", "LIST"))
    assert len(names) > 50
    mismatches = []
    for raw in names:
        name = raw.decode()
        ours = _info(atoll_conn, name)
        theirs = _info(ref_conn, name)
        if theirs is None:
            # Newer than Redis 7.0 (e.g. CLIENT NO-TOUCH from 7.2): nothing to compare with.
            continue
        # Fields 0..8: name, arity, flags, first, last, step, ACL categories, tips, key specs.
        # Field 9 (subcommands) is compared per subcommand through its own COMMAND INFO.
        if ours[:9] != theirs[:9]:
            mismatches.append((name, ours[:9], theirs[:9]))
    assert not mismatches, "\n".join(f"{n}:\n  atoll: {a}\n  redis: {r}" for n, a, r in mismatches)


def test_command_count_is_top_level_list(atoll_conn):
    count = resp.parse(atoll_conn.command("COMMAND", "COUNT"))
    everything = resp.parse(atoll_conn.command("COMMAND"))
    assert count == len(everything)
    top = [e[0] for e in everything]
    assert len(set(top)) == len(top)

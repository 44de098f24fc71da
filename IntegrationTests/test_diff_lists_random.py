"""Seeded random differential run over the non-blocking list commands.

A fixed-seed generator issues ~3000 commands (valid and invalid arguments; the
blocking forms too, with a 1 ms timeout so they never wait long) over
four keys and a small element alphabet, so pushes, pops, removals and moves keep
hitting the same elements and keys keep being emptied (deleted) and recreated.
One key (k3) is now and then overwritten with a string, for WRONGTYPE paths. Every
reply is compared byte for byte; the seed is in the test id to replay a failure.
"""

import random

import pytest

KEYS = ["k0", "k1", "k2", "k3"]
ELEMENTS = ["a", "b", "c", "dd", "", "\x00e"]
STEPS = 3000


def _index(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return rng.choice(["x", "1.5", ""])
    return rng.choice([str(rng.randint(-8, 8)), str(rng.randint(-8, 8)), str(rng.randint(-3, 3)),
                       "-100", "100", "9223372036854775807", "-9223372036854775808"])


def _count(rng: random.Random) -> str:
    return rng.choice([str(rng.randint(0, 5)), str(rng.randint(1, 3)), "-1", "0", "y", "100"])


def _side(rng: random.Random) -> str:
    return rng.choice(["LEFT", "RIGHT", "left", "Right", "UP"] if rng.random() < 0.1 else ["LEFT", "RIGHT"])


def _elements(rng: random.Random, n_max: int = 4) -> list[str]:
    return [rng.choice(ELEMENTS) for _ in range(rng.randint(1, n_max))]


def _lpos_options(rng: random.Random) -> list[str]:
    options = []
    for _ in range(rng.randint(0, 3)):
        name = rng.choice(["RANK", "COUNT", "MAXLEN", "rank", "FOO"])
        if name.upper() == "RANK":
            options += [name, rng.choice(["1", "2", "-1", "-2", "3", "0", "-9223372036854775808", "z"])]
        elif name == "FOO":
            options.append(name)
        else:
            options += [name, _count(rng)]
    return options


def random_command(rng: random.Random) -> list[str]:
    key, other = rng.choice(KEYS), rng.choice(KEYS)
    kind = rng.randrange(20)
    if kind == 0:
        return [rng.choice(["LPUSH", "RPUSH"]), key, *_elements(rng)]
    if kind == 1:
        return [rng.choice(["LPUSHX", "RPUSHX", "LPUSH", "RPUSH"]), key, *_elements(rng)]
    if kind == 2:
        cmd = [rng.choice(["LPOP", "RPOP"]), key]
        return cmd + ([_count(rng)] if rng.random() < 0.5 else [])
    if kind == 3:
        return ["LLEN", key]
    if kind in (4, 5):
        return ["LRANGE", key, _index(rng), _index(rng)]
    if kind == 6:
        return ["LINDEX", key, _index(rng)]
    if kind == 7:
        return ["LSET", key, _index(rng), rng.choice(ELEMENTS)]
    if kind == 8:
        where = rng.choice(["BEFORE", "AFTER", "after", "AROUND"])
        return ["LINSERT", key, where, rng.choice(ELEMENTS), rng.choice(ELEMENTS)]
    if kind == 9:
        return ["LREM", key, rng.choice([str(rng.randint(-3, 3)), "0", "q"]), rng.choice(ELEMENTS)]
    if kind == 10:
        return ["LTRIM", key, _index(rng), _index(rng)]
    if kind == 11:
        return ["LPOS", key, rng.choice(ELEMENTS), *_lpos_options(rng)]
    if kind == 12:
        return ["LMOVE", key, other, _side(rng), _side(rng)]
    if kind == 13:
        return ["RPOPLPUSH", key, other]
    if kind == 14:
        keys = rng.sample(KEYS, rng.randint(1, 3))
        numkeys = str(len(keys)) if rng.random() < 0.9 else rng.choice(["0", "-1", "9", "n"])
        cmd = ["LMPOP", numkeys, *keys, _side(rng)]
        return cmd + (["COUNT", _count(rng)] if rng.random() < 0.5 else [])
    if kind == 15:
        # Blocking forms that never block here: the source is non-empty or the timeout tiny.
        return rng.choice([["BLPOP", key, other, "0.001"], ["BRPOP", key, "0.001"],
                           ["BLMOVE", key, other, _side(rng), _side(rng), "0.001"],
                           ["BLMPOP", "0.001", "2", key, other, _side(rng)]])
    if kind == 16:
        if rng.random() < 0.3:
            return ["SET", "k3", "str"]
        return rng.choice([["DEL", key], ["DEL", key, other], ["EXISTS", key], ["TYPE", key]])
    if kind == 17:
        return ["LRANGE", key, "0", "-1"]
    if kind == 18:
        return [rng.choice(["LPUSH", "RPUSH"]), key, *_elements(rng, 12)]
    return ["LPOS", key, rng.choice(ELEMENTS), "COUNT", "0"]


@pytest.mark.parametrize("seed", [20240601, 7])
def test_random_list_commands(diff, seed):
    rng = random.Random(seed)
    for _ in range(STEPS // 2):
        cmd = random_command(rng)
        r = diff.check(*cmd)
        assert not r.startswith(b"<timeout"), f"{cmd} blocked"
    for key in KEYS:
        diff.check("TYPE", key)
        diff.check("LRANGE", key, "0", "-1")

"""Differential tests for the geo commands: scores, coordinates, hashes and distances byte for
byte against redis-server, every search option, random points and searches (replies in Redis's
own order, even unsorted), STORE/STOREDIST, errors, RESP2 and RESP3."""
import random

import pytest

import resp

PLACES = [
    ("13.361389", "38.115556", "Palermo"), ("15.087269", "37.502669", "Catania"),
    ("12.758489", "38.788135", "edge1"), ("12.496366", "41.902782", "Rome"),
    ("-122.27652", "37.805186", "Oakland"), ("-122.2674626", "37.8062344", "Berkeley"),
    ("-122.2469854", "37.8104049", "Piedmont"), ("0", "0", "origin"), ("179.9999", "85.05", "corner"),
    ("-180", "-85.05112878", "south"), ("180", "85.05112878", "north"),
]


@pytest.fixture
def geo(diff):
    diff.check("GEOADD", "g", *[x for p in PLACES for x in p])
    return diff


@pytest.mark.parametrize("protocol", ["2", "3"])
def test_positions_hashes_distances(geo, protocol):
    names = [p[2] for p in PLACES]
    geo.both("HELLO", protocol)
    geo.run([
        ("GEOPOS", "g", *names, "missing"), ("GEOHASH", "g", *names, "missing"), "GEOPOS nokey a",
        "GEOHASH nokey a", "GEOPOS g", "GEOHASH g", "ZRANGE g 0 -1 WITHSCORES",
        "GEODIST g Palermo Catania", "GEODIST g Palermo Catania km", "GEODIST g Palermo Catania MI",
        "GEODIST g Palermo Catania ft", "GEODIST g Palermo Palermo", "GEODIST g Palermo missing",
        "GEODIST nokey a b", "GEODIST g Palermo Catania xx", "GEODIST g Palermo Catania km x",
        "GEODIST g Oakland Berkeley", "GEODIST g south north", "GEODIST g origin corner km",
        "GEODIST g Oakland Piedmont ft",
    ])


def test_geoadd_options_and_errors(diff):
    diff.run([
        "GEOADD g 13.361389 38.115556 Palermo", "GEOADD g NX 13 38 Palermo 15 37 Catania", "ZSCORE g Palermo",
        "GEOADD g XX 1 1 Palermo 2 2 New", "ZSCORE g New", "GEOADD g XX CH 1 1 Palermo", "GEOADD g CH 5 5 Palermo 6 6 x",
        "GEOADD g NX XX 1 1 a", "GEOADD g 1 1", "GEOADD g 1 1 a 2", "GEOADD g x 1 a", "GEOADD g 1 x a",
        "GEOADD g 181 1 a", "GEOADD g 1 85.06 a", "GEOADD g -180.5 -86 a", "GEOADD g inf 1 a",
        "GEOADD g GT 1 1 a", "SET s x", "GEOADD s 1 1 a", "GEOADD g 1e2 1.5e1 sci", "GEOPOS g sci",
        "GEOADD g '' 1 a", "GEOADD g ' 1' 1 a", "GEOADD", "GEOADD g", "GEOADD g 1 1",
        "ZADD z 1.5 a -3 b 9007199254740993 c", "GEOPOS z a b c", "GEOHASH z a b c", "GEODIST z a b",
        "GEOADD g ch ch ch", "GEOADD g ch nx ch", "GEOADD new XX 1 1 a", "EXISTS new", "GEOADD new XX CH 1 1 a",
        "GEOADD g nx ch 1 1 Palermo 3 3 z1", "GEOADD g 7 7 dup 8 8 dup", "GEOPOS g dup", "GEOADD s 1 x a",
        "LPUSH l a", "GEOADD l 1 1 a", "GEOADD l 1 200 a",
    ])


SEARCHES = [
    "GEORADIUS g 15 37 200 km", "GEORADIUS g 15 37 200 km ASC", "GEORADIUS g 15 37 200 km DESC",
    "GEORADIUS g 15 37 200 km WITHDIST WITHCOORD WITHHASH", "GEORADIUS g 15 37 200 km COUNT 1",
    "GEORADIUS g 15 37 200 km COUNT 1 DESC", "GEORADIUS g 15 37 200 km COUNT 2 ANY",
    "GEORADIUS g 15 37 5000 km", "GEORADIUS g 15 37 20000 km", "GEORADIUS g -122.27 37.8 5 km WITHDIST",
    "GEORADIUS g 15 37 0 km", "GEORADIUS g 15 37 200 mi", "GEORADIUS g 15 37 200000 m", "GEORADIUS g 15 37 656168 ft",
    "GEORADIUS_RO g 15 37 200 km WITHDIST", "GEORADIUSBYMEMBER g Palermo 200 km WITHDIST",
    "GEORADIUSBYMEMBER g Palermo 200 km COUNT 1 WITHCOORD", "GEORADIUSBYMEMBER_RO g Oakland 10 km",
    "GEORADIUSBYMEMBER g missing 10 km", "GEORADIUSBYMEMBER nokey missing 10 km",
    "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km ASC", "GEOSEARCH g FROMMEMBER Palermo BYRADIUS 200 km WITHDIST",
    "GEOSEARCH g FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD", "GEOSEARCH g FROMMEMBER Oakland BYBOX 10 10 km",
    "GEOSEARCH g FROMLONLAT 0 0 BYBOX 1 1 m WITHHASH", "GEOSEARCH g FROMLONLAT -122.27 37.8 BYRADIUS 3 km",
    "GEOSEARCH g FROMLONLAT 179 85 BYRADIUS 500 km WITHDIST", "GEOSEARCH g FROMLONLAT -179 -85 BYBOX 1000 1000 km",
    "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1 ANY DESC", "GEOSEARCH nokey FROMLONLAT 15 37 BYRADIUS 1 km",
    "GEOSEARCH nokey FROMMEMBER x BYRADIUS 1 km",
]


@pytest.mark.parametrize("protocol", ["2", "3"])
def test_searches(geo, protocol):
    geo.both("HELLO", protocol)
    geo.run(SEARCHES)


def test_search_errors(geo):
    geo.run([
        "GEORADIUS g 15 37 -1 km", "GEORADIUS g 15 37 x km", "GEORADIUS g 15 37 1 parsec", "GEORADIUS g 200 37 1 km",
        "GEORADIUS g 15 37 1 km COUNT 0", "GEORADIUS g 15 37 1 km COUNT x", "GEORADIUS g 15 37 1 km COUNT",
        "GEORADIUS g 15 37 1 km ANY", "GEORADIUS g 15 37 1 km FOO", "GEORADIUS g 15 37 1 km STORE d WITHDIST",
        "GEORADIUS_RO g 15 37 1 km STORE d", "GEORADIUS g 15 37 1 km FROMLONLAT 1 1",
        "GEOSEARCH g BYRADIUS 1 km", "GEOSEARCH g FROMLONLAT 1 1", "geosearch g FROMLONLAT 1 1",
        "GEOSEARCH g FROMLONLAT 1 1 FROMMEMBER Palermo BYRADIUS 1 km", "GEOSEARCH g FROMMEMBER x BYRADIUS 1 km",
        "GEOSEARCH g FROMLONLAT 1 1 BYRADIUS 1 km BYBOX 1 1 km", "GEOSEARCH g FROMLONLAT 1 1 BYBOX -1 1 km",
        "GEOSEARCH g FROMLONLAT 1 1 BYBOX x 1 km", "GEOSEARCH g FROMLONLAT 1 1 BYBOX 1 x km",
        "GEOSEARCH g FROMLONLAT 1 1 BYBOX 1 1 parsec", "GEOSEARCH g FROMLONLAT 1 1 BYRADIUS 1 km STORE d",
        "GEOSEARCH g FROMLONLAT 1 1 BYRADIUS 1 km STOREDIST", "GEOSEARCHSTORE d g FROMLONLAT 1 1 BYRADIUS 1 km WITHDIST",
        "GEOSEARCHSTORE d g FROMLONLAT 1 BYRADIUS 1 km", "SET s x", "GEOSEARCH s FROMLONLAT 1 1 BYRADIUS 1 km",
        "GEORADIUS s 1 1 1 km", "GEOPOS s a", "GEODIST s a b", "GEOHASH s a", "GEORADIUSBYMEMBER g", "GEOSEARCH g",
    ])


def test_store(geo):
    geo.run([
        "GEORADIUS g 15 37 200 km STORE d", "ZRANGE d 0 -1 WITHSCORES", "GEORADIUS g 15 37 200 km STOREDIST d",
        "ZRANGE d 0 -1 WITHSCORES", "GEORADIUS g 15 37 200 km COUNT 1 STOREDIST d", "ZRANGE d 0 -1 WITHSCORES",
        "GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 200 km", "ZRANGE d 0 -1 WITHSCORES",
        "GEOSEARCHSTORE d g FROMLONLAT 15 37 BYBOX 400 400 km STOREDIST", "ZRANGE d 0 -1 WITHSCORES",
        "OBJECT ENCODING d", "GEOSEARCHSTORE d g FROMLONLAT 0 -50 BYRADIUS 1 km", "EXISTS d",
        "SET d x", "GEOSEARCHSTORE d nokey FROMLONLAT 0 0 BYRADIUS 1 km", "EXISTS d",
        "GEORADIUSBYMEMBER g Rome 1000 km STORE d2", "ZRANGE d2 0 -1 WITHSCORES",
    ])


@pytest.mark.parametrize("seed", range(6))
def test_random_points_and_searches(diff, seed):
    rng = random.Random(seed)
    lon0, lat0 = rng.uniform(-170, 170), rng.uniform(-80, 80)
    spread = rng.choice([0.01, 0.5, 5, 40])
    points = []
    for i in range(300):
        lon = max(-180.0, min(180.0, lon0 + rng.uniform(-spread, spread)))
        lat = max(-85.0, min(85.0, lat0 + rng.uniform(-spread, spread)))
        points += [repr(lon), repr(lat), f"p{i}"]
    diff.check("GEOADD", "g", *points)
    for _ in range(40):
        lon = repr(max(-180.0, min(180.0, lon0 + rng.uniform(-spread, spread))))
        lat = repr(max(-85.0, min(85.0, lat0 + rng.uniform(-spread, spread))))
        dist = repr(round(rng.uniform(0, spread * 120), 3))
        unit = rng.choice(["m", "km", "mi", "ft"])
        extra = rng.sample(["WITHDIST", "WITHCOORD", "WITHHASH", "ASC", "DESC"], rng.randint(0, 3))
        if "ASC" in extra and "DESC" in extra:
            extra.remove("DESC")
        if rng.random() < 0.3:
            extra += ["COUNT", str(rng.randint(1, 20))]
        kind = rng.randrange(4)
        if kind == 0:
            diff.check("GEORADIUS", "g", lon, lat, dist, unit, *extra)
        elif kind == 1:
            diff.check("GEORADIUSBYMEMBER", "g", f"p{rng.randrange(300)}", dist, unit, *extra)
        elif kind == 2:
            diff.check("GEOSEARCH", "g", "FROMLONLAT", lon, lat, "BYBOX", dist, repr(round(rng.uniform(0, spread * 120), 3)),
                       unit, *extra)
        else:
            diff.check("GEOSEARCH", "g", "FROMMEMBER", f"p{rng.randrange(300)}", "BYRADIUS", dist, unit, *extra)
        a, b = rng.sample(range(300), 2)
        diff.check("GEODIST", "g", f"p{a}", f"p{b}", unit)


@pytest.mark.parametrize("seed", range(4))
def test_count_among_equal_distances(diff, seed):
    """Many members at a few places, so that distances tie: with COUNT below the number found,
    Redis sorts only the first COUNT (its pqsort), which decides which of the tied members are
    listed and in what order."""
    rng = random.Random(seed)
    places = [(rng.uniform(9.0, 11.0), rng.uniform(44.0, 46.0)) for _ in range(rng.choice([1, 3, 8]))]
    points = []
    for i in range(rng.choice([12, 60, 200])):
        lon, lat = rng.choice(places)
        points += [repr(lon), repr(lat), f"m{i}"]
    diff.check("GEOADD", "g", *points)
    for _ in range(30):
        count = str(rng.randint(1, 50))
        order = rng.choice(["ASC", "DESC"])
        extra = rng.sample(["WITHDIST", "WITHCOORD"], rng.randint(0, 2))
        diff.check("GEOSEARCH", "g", "FROMLONLAT", "10", "45", "BYRADIUS", "400", "km", order, "COUNT", count, *extra)
        diff.check("GEORADIUS", "g", "10", "45", "400", "km", "COUNT", count, *extra)
        diff.check("GEOSEARCH", "g", "FROMLONLAT", "10", "45", "BYBOX", "800", "800", "km", order, "COUNT", count)
        diff.check("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "10", "45", "BYRADIUS", "400", "km", order, "COUNT", count)
        diff.check("ZRANGE", "d", "0", "-1", "WITHSCORES")


def test_radius_searches_at_the_edge_of_the_circle(diff):
    """Points almost due north or south of the centre, with radii within a few millimetres of
    their distance (GEODIST's, to 0.1 mm): where a search tells inside from outside by the
    latitude alone, it must still find exactly the points Redis finds."""
    points = ["13.0", "38.0", "c"]
    for i, dlat in enumerate([0.001, 0.5, 3.0, 10.0, -0.25, -7.5]):
        for j, dlon in enumerate([0.0, 1e-7, 1e-5, 0.001]):
            points += [repr(13.0 + dlon), repr(38.0 + dlat), f"p{i}_{j}"]
    diff.check("GEOADD", "g", *points)
    for i in range(6):
        for j in range(4):
            exact = float(resp.parse(diff.ref.command("GEODIST", "g", "c", f"p{i}_{j}")))
            for delta in (-0.01, -0.001, -0.0001, 0.0, 0.0001, 0.001, 0.01):
                diff.check("GEOSEARCH", "g", "FROMMEMBER", "c", "BYRADIUS", repr(round(exact + delta, 4)), "m",
                           "ASC", "WITHDIST")
                diff.check("GEORADIUS", "g", "13.0", "38.0", repr(round(exact + delta, 4)), "m", "WITHDIST")


# Scores no GEOADD makes: C's (uint64_t) cast reads those of 2^64 and more (and +inf) as 0,
# -inf and those below -2^63 as 2^63, negative ones by their two's complement.
ODD_SCORES = ["inf", "-inf", "-1", "-0", "0.5", "1e300", "-1e300", "18446744073709551616", "2e19",
              "18446744073709551615", "9223372036854775808", "-9223372036854775809", "4503599627370496",
              "4503599627370495.5", "3471579339700058"]


@pytest.mark.parametrize("protocol", ["2", "3"])
def test_scores_that_are_not_geohashes(diff, protocol):
    diff.both("HELLO", protocol)
    for i, score in enumerate(ODD_SCORES):
        diff.check("ZADD", "z", score, f"m{i}")
    for i in range(len(ODD_SCORES)):
        diff.run([
            ("GEOPOS", "z", f"m{i}"), ("GEOHASH", "z", f"m{i}"), ("GEODIST", "z", f"m{i}", "m14", "km"),
            ("GEORADIUSBYMEMBER", "z", f"m{i}", "100", "km", "WITHDIST", "WITHHASH", "WITHCOORD", "ASC"),
            ("GEOSEARCH", "z", "FROMMEMBER", f"m{i}", "BYBOX", "1e308", "1e308", "m", "WITHHASH", "ASC"),
        ])


def test_inside_multi_and_scripts(diff):
    diff.run([
        "MULTI", "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", "GEODIST g Palermo Catania",
        "GEOSEARCHSTORE d g FROMMEMBER Palermo BYRADIUS 300 km", "EXEC",
        ("EVAL", "return redis.call('GEOPOS', KEYS[1], 'Palermo')", "1", "g"),
        ("EVAL", "return redis.call('GEORADIUS_RO', KEYS[1], 15, 37, 200, 'km', 'WITHDIST')", "1", "g"),
        ("EVAL", "return redis.pcall('GEOADD', KEYS[1], 200, 1, 'x')", "1", "g"),
    ])


def test_slowlog_shows_geoadd_as_sent(diff):
    """GEOADD runs and is propagated as ZADD, but Redis keeps the command as sent for the slow
    log (and MONITOR); so must Atoll."""
    diff.run(["SLOWLOG RESET", "CONFIG SET slowlog-log-slower-than 0"])
    sent = [b"GEOADD", b"g", b"CH", b"13.361389", b"38.115556", b"Palermo"]
    diff.check(*sent)
    for conn in (diff.ref, diff.atoll):
        latest = resp.parse(conn.command("SLOWLOG", "GET", "1"))[0]
        assert latest[3] == sent
    diff.run(["CONFIG SET slowlog-log-slower-than 10000", "SLOWLOG RESET"])

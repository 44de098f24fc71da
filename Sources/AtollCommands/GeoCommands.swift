/// Geo commands on sorted sets whose scores are 52-bit geohashes (see `Geohash`): GEOADD
/// GEODIST GEOHASH GEOPOS GEORADIUS GEORADIUSBYMEMBER (and `_RO`) GEOSEARCH GEOSEARCHSTORE.
/// Searches scan the sorted set in the score ranges of Redis's nine boxes, in Redis's order,
/// so even unsorted replies come in the same order as Redis's.
import AtollCore
import AtollBytes
import AtollKeyspace
import AtollRESP
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum GeoCommands {
    static let commands: [CommandBinding] = [
        .init("geoadd", .eventsAfterReply, geoadd),
        .init("geodist", geodist),
        .init("geohash", geohash),
        .init("geopos", geopos),
        .init("georadius", { search(&$0, .coordinates, canStore: true) }),
        .init("georadius_ro", { search(&$0, .coordinates, canStore: false) }),
        .init("georadiusbymember", { search(&$0, .member, canStore: true) }),
        .init("georadiusbymember_ro", { search(&$0, .member, canStore: false) }),
        .init("geosearch", { search(&$0, .search, canStore: false) }),
        .init("geosearchstore", { search(&$0, .searchStore, canStore: false) }),
    ]

    /// GEOADD is ZADD with the coordinates turned into scores: the members go into the sorted
    /// set directly, and the change is logged as that ZADD (as Redis propagates it).
    static func geoadd(_ c: inout CommandContext) {
        var first = 2
        var options = SortedSetCommands.AddOptions()
        while first < c.args.count {
            if c.argIs(first, "nx") { options.nx = true }
            else if c.argIs(first, "xx") { options.xx = true }
            else if c.argIs(first, "ch") { options.ch = true }
            else { break }
            first += 1
        }
        let triples = (c.args.count - first) / 3
        if (c.args.count - first) % 3 != 0 || triples == 0 || (options.nx && options.xx) { return c.syntaxError() }
        var scores: [Double] = []
        scores.reserveCapacity(triples)
        for i in stride(from: first, to: c.args.count, by: 3) {
            guard let (longitude, latitude) = coordinates(&c, i) else { return }
            scores.append(Double(Geohash.score(longitude: longitude, latitude: latitude) ?? 0))
        }
        if c.logsWrites {
            var zadd: [[UInt8]] = [Array("zadd".utf8)] + c.args[1..<first]
            for (j, score) in scores.enumerated() {
                zadd.append(Array(String(UInt64(score)).utf8))
                zadd.append(c.args[first + 2 + 3 * j])
            }
            c.logAs(zadd)
        }
        SortedSetCommands.add(&c, options, scores: scores, firstMember: first + 2, memberStride: 3)
    }

    /// A longitude and latitude from arguments `index` and `index + 1`, or nil after the reply.
    static func coordinates(_ c: inout CommandContext, _ index: Int) -> (Double, Double)? {
        guard let longitude = parseScore(c.args[index]), let latitude = parseScore(c.args[index + 1]) else {
            c.notFloat()
            return nil
        }
        guard longitude >= -Geohash.longitudeLimit, longitude <= Geohash.longitudeLimit,
              latitude >= -Geohash.latitudeLimit, latitude <= Geohash.latitudeLimit else {
            c.out.error("ERR invalid longitude,latitude pair \(fixed6(longitude)),\(fixed6(latitude))")
            return nil
        }
        return (longitude, latitude)
    }

    static func fixed6(_ d: Double) -> String { printf("%f", d) }

    static func printf(_ format: String, _ d: Double) -> String {
        var buffer = [CChar](repeating: 0, count: 400)
        let n = withVaList([d]) { vsnprintf(&buffer, buffer.count, format, $0) }
        return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Metres per unit, or nil after Redis's error.
    static func unit(_ c: inout CommandContext, _ index: Int) -> Double? {
        if c.argIs(index, "m") { return 1 }
        if c.argIs(index, "km") { return 1000 }
        if c.argIs(index, "ft") { return 0.3048 }
        if c.argIs(index, "mi") { return 1609.34 }
        c.out.error("ERR unsupported unit provided. please use M, KM, FT, MI")
        return nil
    }

    /// The sorted set at `key`: `.some(nil)` when missing, nil after WRONGTYPE.
    static func zset(_ key: Bytes, _ c: inout CommandContext) -> SortedSetObject?? {
        switch c.readSortedSet(key) {
        case .missing: return .some(nil)
        case .found(let z): return .some(z)
        case .wrongType:
            c.wrongType()
            return nil
        }
    }

    /// Redis's `addReplyDoubleDistance`: fixed point with four decimals, rounded half to even.
    static func writeDistance(_ d: Double, _ out: inout ReplyWriter) {
        let scaled = (d * 10000).rounded(.toNearestOrEven)
        guard scaled.magnitude < 9.2e18 else { return out.bulk(printf("%.4f", d)) }
        let n = Int64(scaled)
        let digits = String(n.magnitude)
        let padded = String(repeating: "0", count: max(0, 5 - digits.count)) + digits
        let text = (n < 0 ? "-" : "") + padded.dropLast(4) + "." + padded.suffix(4)
        out.bulk(text)
    }

    /// Redis's `addReplyHumanLongDouble`: `%.17Lf` without trailing zeros; a bulk string in
    /// RESP2, a double in RESP3.
    static func writeCoordinate(_ d: Double, _ out: inout ReplyWriter) {
        let text = formatLongDouble(Float80(d))
        out.double(text: text)
    }

    static func geodist(_ c: inout CommandContext) {
        var toMeters = 1.0
        if c.args.count == 5 {
            guard let u = unit(&c, 4) else { return }
            toMeters = u
        } else if c.args.count > 5 {
            return c.syntaxError()
        }
        guard let found = zset(Bytes(c.args[1]), &c) else { return }
        guard let z = found, let s1 = z.score(of: Bytes(c.args[2])), let s2 = z.score(of: Bytes(c.args[3])) else {
            return c.out.null()
        }
        let a = Geohash.coordinates(ofScore: s1), b = Geohash.coordinates(ofScore: s2)
        writeDistance(Geohash.distance(a.longitude, a.latitude, b.longitude, b.latitude) / toMeters, &c.out)
    }

    static func geohash(_ c: inout CommandContext) {
        guard let found = zset(Bytes(c.args[1]), &c) else { return }
        c.out.arrayHeader(c.args.count - 2)
        for i in 2..<c.args.count {
            if let score = found?.score(of: Bytes(c.args[i])) {
                c.out.bulk(Geohash.standardHash(ofScore: score))
            } else {
                c.out.null()
            }
        }
    }

    static func geopos(_ c: inout CommandContext) {
        guard let found = zset(Bytes(c.args[1]), &c) else { return }
        c.out.arrayHeader(c.args.count - 2)
        for i in 2..<c.args.count {
            guard let score = found?.score(of: Bytes(c.args[i])) else {
                c.out.nullArray()
                continue
            }
            let (longitude, latitude) = Geohash.coordinates(ofScore: score)
            c.out.arrayHeader(2)
            writeCoordinate(longitude, &c.out)
            writeCoordinate(latitude, &c.out)
        }
    }

    // MARK: - Searches

    enum Form { case coordinates, member, search, searchStore }

    struct Found {
        var member: Bytes
        var score: Double
        var distance: Double
        var longitude: Double
        var latitude: Double
    }

    /// Redis's `georadiusGeneric`, for every search command.
    static func search(_ c: inout CommandContext, _ form: Form, canStore: Bool) {
        let sourceIndex = form == .searchStore ? 2 : 1
        guard let found = zset(Bytes(c.args[sourceIndex]), &c) else { return }
        var centre: (Double, Double)?
        var kind: Geohash.Shape.Kind?
        var toMeters = 1.0
        var base: Int
        var store: Bytes?
        var storeDistance = false
        switch form {
        case .coordinates:
            base = 6
            guard let point = coordinates(&c, 2), let (r, u) = radius(&c, 4) else { return }
            (centre, kind, toMeters) = (point, .radius(r), u)
        case .member:
            base = 5
            if let z = found {
                guard let score = z.score(of: Bytes(c.args[2])) else {
                    return c.out.error("ERR could not decode requested zset member")
                }
                let point = Geohash.coordinates(ofScore: score)
                guard let (r, u) = radius(&c, 3) else { return }
                (centre, kind, toMeters) = ((point.longitude, point.latitude), .radius(r), u)
            }
        case .search:
            base = 2
        case .searchStore:
            base = 3
            store = Bytes(c.args[1])
        }
        let isSearch = form == .search || form == .searchStore
        var withDistance = false, withHash = false, withCoordinates = false, any = false
        var fromMember = false, fromLonLat = false, byRadius = false, byBox = false
        var order: Bool?   // true: ascending
        var count: Int64 = 0
        var i = base
        while i < c.args.count {
            let remaining = c.args.count - i - 1
            if c.argIs(i, "withdist") { withDistance = true }
            else if c.argIs(i, "withhash") { withHash = true }
            else if c.argIs(i, "withcoord") { withCoordinates = true }
            else if c.argIs(i, "any") { any = true }
            else if c.argIs(i, "asc") { order = true }
            else if c.argIs(i, "desc") { order = false }
            else if c.argIs(i, "count") && remaining >= 1 {
                guard let n = c.integerArgument(i + 1) else { return }
                guard n > 0 else { return c.out.error("ERR COUNT must be > 0") }
                count = n
                i += 1
            } else if (c.argIs(i, "store") || c.argIs(i, "storedist")) && remaining >= 1 && canStore {
                store = Bytes(c.args[i + 1])
                storeDistance = c.argIs(i, "storedist")
                i += 1
            } else if c.argIs(i, "storedist") && form == .searchStore {
                storeDistance = true
            } else if c.argIs(i, "frommember") && remaining >= 1 && isSearch && !fromLonLat {
                if let z = found {
                    guard let score = z.score(of: Bytes(c.args[i + 1])) else {
                        return c.out.error("ERR could not decode requested zset member")
                    }
                    let point = Geohash.coordinates(ofScore: score)
                    centre = (point.longitude, point.latitude)
                }
                fromMember = true
                i += 1
            } else if c.argIs(i, "fromlonlat") && remaining >= 2 && isSearch && !fromMember {
                guard let point = coordinates(&c, i + 1) else { return }
                centre = point
                fromLonLat = true
                i += 2
            } else if c.argIs(i, "byradius") && remaining >= 2 && isSearch && !byBox {
                guard let (r, u) = radius(&c, i + 1) else { return }
                (kind, toMeters) = (.radius(r), u)
                byRadius = true
                i += 2
            } else if c.argIs(i, "bybox") && remaining >= 3 && isSearch && !byRadius {
                guard let (w, h, u) = box(&c, i + 1) else { return }
                (kind, toMeters) = (.box(width: w, height: h), u)
                byBox = true
                i += 3
            } else {
                return c.syntaxError()
            }
            i += 1
        }
        if store != nil && (withDistance || withHash || withCoordinates) {
            let what = form == .searchStore ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS"
            return c.out.error("ERR \(what) is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
        }
        let typed = String(decoding: c.args[0].prefix { $0 != 0 }, as: UTF8.self)
        if isSearch && !(fromMember || fromLonLat) {
            return c.out.error("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for \(typed)")
        }
        if isSearch && !(byRadius || byBox) {
            return c.out.error("ERR exactly one of BYRADIUS and BYBOX can be specified for \(typed)")
        }
        if any && count == 0 { return c.out.error("ERR the ANY argument requires COUNT argument") }
        guard let z = found, let (longitude, latitude) = centre, let kind else {
            if let store {
                c.delete(store)
                return c.out.integer(0)
            }
            return c.out.arrayHeader(0)
        }
        if count != 0 && order == nil && !any { order = true }
        let shape = Geohash.Shape(longitude: longitude, latitude: latitude, kind: kind, toMeters: toMeters)
        var results = collect(z, shape, limit: any ? Int(count) : 0)
        if results.isEmpty && store == nil { return c.out.arrayHeader(0) }
        let returned = count == 0 || results.count < Int(count) ? results.count : Int(count)
        if let ascending = order {
            // Positions are sorted, not the results themselves (each move would copy a member).
            var sorted = Array(results.indices)
            if returned == results.count {
                // Stable, as Redis's qsort (glibc's merge sort) is for the full sort.
                sorted.sort { i, j in
                    let a = results[i].distance, b = results[j].distance
                    if a != b { return ascending ? a < b : a > b }
                    return i < j
                }
            } else {
                // Redis sorts the first COUNT only, with its pqsort: equal distances come out
                // in that algorithm's order.
                PartialQuicksort.sort(&sorted, keeping: 0, through: returned - 1) { i, j in
                    let a = results[i].distance, b = results[j].distance
                    let order = a == b ? 0 : (a > b ? 1 : -1)
                    return ascending ? order : -order
                }
            }
            results = sorted.map { results[$0] }
        }
        if let store {
            let entries = results.prefix(returned).map {
                ScoredMember(score: storeDistance ? $0.distance / toMeters : $0.score, member: $0.member)
            }.sorted { $0.precedes($1) }
            guard !entries.isEmpty else {
                c.delete(store)
                return c.out.integer(0)
            }
            let limits = c.server.config.encodingLimits
            let longest = entries.reduce(0) { max($0, $1.member.count) }
            let compact = entries.count <= limits.zsetMaxListpackEntries && longest <= limits.zsetMaxListpackValue
            SortedSetCommands.replaceWithResult(&c, store, SortedSetObject.make(sorted: entries, compact: compact),
                                                form == .searchStore ? "geosearchstore" : "georadiusstore")
            return c.out.integer(returned)
        }
        let options = (withDistance ? 1 : 0) + (withHash ? 1 : 0) + (withCoordinates ? 1 : 0)
        c.out.arrayHeader(returned)
        for found in results.prefix(returned) {
            if options > 0 { c.out.arrayHeader(options + 1) }
            c.out.bulk(bytes: found.member)
            if withDistance { writeDistance(found.distance / toMeters, &c.out) }
            if withHash { c.out.integer(Int(Geohash.scoreBits(found.score))) }
            if withCoordinates {
                c.out.arrayHeader(2)
                writeCoordinate(found.longitude, &c.out)
                writeCoordinate(found.latitude, &c.out)
            }
        }
    }

    /// A radius and its unit from arguments `index` and `index + 1`.
    static func radius(_ c: inout CommandContext, _ index: Int) -> (Double, Double)? {
        guard let r = parseScore(c.args[index]) else {
            c.out.error("ERR need numeric radius")
            return nil
        }
        guard r >= 0 else {
            c.out.error("ERR radius cannot be negative")
            return nil
        }
        guard let u = unit(&c, index + 1) else { return nil }
        return (r, u)
    }

    static func box(_ c: inout CommandContext, _ index: Int) -> (Double, Double, Double)? {
        guard let w = parseScore(c.args[index]) else {
            c.out.error("ERR need numeric width")
            return nil
        }
        guard let h = parseScore(c.args[index + 1]) else {
            c.out.error("ERR need numeric height")
            return nil
        }
        guard h >= 0 && w >= 0 else {
            c.out.error("ERR height or width cannot be negative")
            return nil
        }
        guard let u = unit(&c, index + 2) else { return nil }
        return (w, h, u)
    }

    /// Redis's `membersOfAllNeighbors`: the members inside the shape, box by box, each box's
    /// score range in order; with `limit` (ANY), it stops once that many were found.
    static func collect(_ z: SortedSetObject, _ shape: Geohash.Shape, limit: Int) -> [Found] {
        let boxes = Geohash.searchBoxes(shape)
        var results: [Found] = []
        var lastProcessed = 0
        for (i, box) in boxes.enumerated() {
            if box.isNone { continue }
            // Redis skips a box equal to the last one it searched (huge radii), but never
            // compares with the centre box, whose index is 0.
            if lastProcessed != 0 && box == boxes[lastProcessed] { continue }
            if !results.isEmpty && limit > 0 && results.count >= limit { break }
            let (min, max) = Geohash.scoreInterval(box)
            let start = z.partition(byScore: { $0 < min })
            if start < z.count {
                // Scores first: most members of a box are outside the shape, and only the
                // members kept are fetched (by rank).
                z.visitScores(fromRank: start) { score, rank in
                    guard score < max else { return false }
                    let (lon, lat) = Geohash.coordinates(ofScore: score)
                    if let distance = shape.contains(longitude: lon, latitude: lat) {
                        results.append(Found(member: z.entry(atRank: rank).member, score: score, distance: distance,
                                             longitude: lon, latitude: lat))
                    }
                    return !(limit > 0 && results.count >= limit)
                }
            }
            lastProcessed = i
        }
        return results
    }
}

/// Redis's 52-bit geohash: a longitude and latitude interleaved into a sorted-set score, the
/// 3x3 boxes that cover a search area, and distances on Redis's sphere. Every formula and
/// constant is Redis's, so scores, coordinates and distances are the same to the last bit.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum Geohash {
    static let latitudeLimit = 85.05112878
    static let longitudeLimit = 180.0
    static let maxStep = 26
    static let earthRadius = 6372797.560856
    static let mercatorMax = 20037726.37

    /// A hash of `step` bits per coordinate (step 0 with no bits means "no box").
    struct Box: Equatable {
        var bits: UInt64
        var step: Int
        static let none = Box(bits: 0, step: 0)
        var isNone: Bool { bits == 0 && step == 0 }
    }

    /// The area a box covers.
    struct Area {
        var longitudeMin, longitudeMax, latitudeMin, latitudeMax: Double
    }

    static func degreesToRadians(_ d: Double) -> Double { d * (Double.pi / 180) }
    static func radiansToDegrees(_ r: Double) -> Double { r / (Double.pi / 180) }

    /// Spreads the 32 bits of `x` over the even bit positions.
    static func spread(_ x: UInt32) -> UInt64 {
        var v = UInt64(x)
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F
        v = (v | (v << 2)) & 0x3333_3333_3333_3333
        v = (v | (v << 1)) & 0x5555_5555_5555_5555
        return v
    }

    /// The bits at even positions, packed.
    static func squash(_ x: UInt64) -> UInt32 {
        var v = x & 0x5555_5555_5555_5555
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333
        v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F
        v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF
        v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF
        v = (v | (v >> 16)) & 0x0000_0000_FFFF_FFFF
        return UInt32(v)
    }

    /// C's double to uint32 conversion of a value known to be in range.
    static func truncated(_ d: Double) -> UInt32 { d <= 0 ? 0 : (d >= 4294967295 ? .max : UInt32(d)) }

    /// Redis's `geohashEncode`: latitude bits at even positions, longitude bits at odd ones.
    /// Nil outside the limits (Redis's ±180, ±85.05112878) or the given latitude range.
    static func encode(longitude: Double, latitude: Double, step: Int, latitudeRange: Double = latitudeLimit) -> Box? {
        guard longitude <= 180, longitude >= -180, latitude <= latitudeLimit, latitude >= -latitudeLimit,
              latitude >= -latitudeRange, latitude <= latitudeRange else { return nil }
        let scale = Double(UInt64(1) << UInt64(step))
        let latOffset = (latitude + latitudeRange) / (2 * latitudeRange) * scale
        let longOffset = (longitude + 180) / 360 * scale
        return Box(bits: spread(truncated(latOffset)) | (spread(truncated(longOffset)) << 1), step: step)
    }

    static func decode(_ box: Box) -> Area {
        let scale = Double(UInt64(1) << UInt64(box.step))
        let lat = Double(squash(box.bits)), long = Double(squash(box.bits >> 1))
        let latScale = 2 * latitudeLimit, longScale = 360.0
        return Area(longitudeMin: -180 + (long * 1.0 / scale) * longScale,
                    longitudeMax: -180 + ((long + 1) * 1.0 / scale) * longScale,
                    latitudeMin: -latitudeLimit + (lat * 1.0 / scale) * latScale,
                    latitudeMax: -latitudeLimit + ((lat + 1) * 1.0 / scale) * latScale)
    }

    /// The centre of a score's box, clamped to the limits: a member's coordinates.
    static func coordinates(ofScore score: Double) -> (longitude: Double, latitude: Double) {
        let area = decode(Box(bits: scoreBits(score), step: maxStep))
        let longitude = min(max((area.longitudeMin + area.longitudeMax) / 2, -longitudeLimit), longitudeLimit)
        let latitude = min(max((area.latitudeMin + area.latitudeMax) / 2, -latitudeLimit), latitudeLimit)
        return (longitude, latitude)
    }

    /// C's `(uint64_t)score` as x86-64 computes it, without trapping on any double. From 2^63
    /// up the compiler subtracts 2^63, converts as signed and flips the top bit back: a value
    /// of 2^64 or more (+inf too) converts to 2^63 there, so it ends as 0.
    static func scoreBits(_ score: Double) -> UInt64 {
        if score.isNaN { return 1 << 63 }
        if score >= 18446744073709551616.0 { return 0 }
        if score >= 9223372036854775808.0 { return UInt64(score - 9223372036854775808.0) ^ (1 << 63) }
        if score <= -9223372036854775809.0 { return 1 << 63 }
        return UInt64(bitPattern: Int64(score))
    }

    /// The score a coordinate pair is stored with.
    static func score(longitude: Double, latitude: Double) -> UInt64? {
        encode(longitude: longitude, latitude: latitude, step: maxStep)?.bits
    }

    /// The 11-character standard geohash (latitude range ±90) of a score.
    static func standardHash(ofScore score: Double) -> [UInt8] {
        let alphabet = Array("0123456789bcdefghjkmnpqrstuvwxyz".utf8)
        let (longitude, latitude) = coordinates(ofScore: score)
        let bits = encode(longitude: longitude, latitude: latitude, step: maxStep, latitudeRange: 90)?.bits ?? 0
        var text: [UInt8] = []
        for i in 0..<10 {
            let shift = UInt64(52 - (i + 1) * 5)
            text.append(alphabet[Int((bits >> shift) & 0x1f)])
        }
        // 52 bits make ten characters and two bits; Redis writes the eleventh as zero.
        text.append(alphabet[0])
        return text
    }

    // MARK: - Distances

    static func latitudeDistance(_ lat1: Double, _ lat2: Double) -> Double {
        earthRadius * abs(degreesToRadians(lat2) - degreesToRadians(lat1))
    }

    /// Haversine on Redis's sphere.
    static func distance(_ lon1: Double, _ lat1: Double, _ lon2: Double, _ lat2: Double) -> Double {
        distance(lon1, lat1, lon2, lat2, firstLatitudeCosine: nil)
    }

    /// As above, with the cosine of `lat1` in radians given when it is known (a search's
    /// centre): the same value Redis computes for every point, so the result is the same.
    static func distance(_ lon1: Double, _ lat1: Double, _ lon2: Double, _ lat2: Double,
                         firstLatitudeCosine: Double?) -> Double {
        let lon1r = degreesToRadians(lon1), lon2r = degreesToRadians(lon2)
        let v = sin((lon2r - lon1r) / 2)
        if v == 0 { return latitudeDistance(lat1, lat2) }
        let lat1r = degreesToRadians(lat1), lat2r = degreesToRadians(lat2)
        let u = sin((lat2r - lat1r) / 2)
        let a = u * u + (firstLatitudeCosine ?? cos(lat1r)) * cos(lat2r) * v * v
        return 2 * earthRadius * asin(a.squareRoot())
    }

    // MARK: - Search areas

    /// What to search: a circle or a box (in metres once multiplied by `toMeters`) around a point.
    struct Shape {
        enum Kind { case radius(Double), box(width: Double, height: Double) }
        var longitude: Double
        var latitude: Double
        var kind: Kind
        var toMeters: Double
        /// cos of the centre's latitude, computed once for every point tested.
        let centreLatitudeCosine: Double

        init(longitude: Double, latitude: Double, kind: Kind, toMeters: Double) {
            self.longitude = longitude
            self.latitude = latitude
            self.kind = kind
            self.toMeters = toMeters
            centreLatitudeCosine = cos(Geohash.degreesToRadians(latitude))
        }

        /// The distance from the centre when the point is inside, else nil.
        func contains(longitude lon: Double, latitude lat: Double) -> Double? {
            switch kind {
            case .radius(let r):
                let limit = r * toMeters
                // A point farther north or south than the radius is outside whatever its
                // longitude (no path between two parallels is shorter than the meridian's),
                // which spares most rejected points the sines and arcsine. The margin leaves the
                // points the full formula could round inside to that formula, so the same
                // points are found as by Redis, which computes every distance in full.
                if Geohash.latitudeDistance(lat, latitude) > limit * (1 + 1e-9) { return nil }
                let d = distanceFromCentre(longitude: lon, latitude: lat)
                return d > limit ? nil : d
            case .box(let width, let height):
                if Geohash.latitudeDistance(lat, latitude) > height * toMeters / 2 { return nil }
                if Geohash.distance(lon, lat, longitude, lat) > width * toMeters / 2 { return nil }
                return distanceFromCentre(longitude: lon, latitude: lat)
            }
        }

        private func distanceFromCentre(longitude lon: Double, latitude lat: Double) -> Double {
            Geohash.distance(longitude, latitude, lon, lat, firstLatitudeCosine: centreLatitudeCosine)
        }

        /// Redis's `geohashBoundingBox`: [min longitude, min latitude, max longitude, max latitude].
        var bounds: (Double, Double, Double, Double) {
            let (h, w): (Double, Double)
            switch kind {
            case .radius(let r): (h, w) = (r * toMeters, r * toMeters)
            case .box(let width, let height): (h, w) = (toMeters * (height / 2), toMeters * (width / 2))
            }
            let latDelta = Geohash.radiansToDegrees(h / Geohash.earthRadius)
            let longDeltaTop = Geohash.radiansToDegrees(w / Geohash.earthRadius / cos(Geohash.degreesToRadians(latitude + latDelta)))
            let longDeltaBottom = Geohash.radiansToDegrees(w / Geohash.earthRadius / cos(Geohash.degreesToRadians(latitude - latDelta)))
            let south = latitude < 0
            return (south ? longitude - longDeltaBottom : longitude - longDeltaTop, latitude - latDelta,
                    south ? longitude + longDeltaBottom : longitude + longDeltaTop, latitude + latDelta)
        }

        var radiusMeters: Double {
            switch kind {
            case .radius(let r): return r * toMeters
            case .box(let width, let height): return ((width / 2) * (width / 2) + (height / 2) * (height / 2)).squareRoot() * toMeters
            }
        }
    }

    static func estimateStep(radiusMeters: Double, latitude: Double) -> Int {
        if radiusMeters == 0 { return 26 }
        var range = radiusMeters
        var step = 1
        while range < mercatorMax {
            range *= 2
            step += 1
        }
        step -= 2
        if latitude > 66 || latitude < -66 {
            step -= 1
            if latitude > 80 || latitude < -80 { step -= 1 }
        }
        return min(max(step, 1), 26)
    }

    static let longitudeBits: UInt64 = 0xaaaa_aaaa_aaaa_aaaa
    static let latitudeBits: UInt64 = 0x5555_5555_5555_5555

    /// The next box east (`d` > 0) or west (`d` < 0): Redis's `geohash_move_x`.
    static func moveX(_ box: Box, _ d: Int) -> Box { move(box, d, along: longitudeBits, across: latitudeBits) }

    /// The next box north (`d` > 0) or south (`d` < 0): Redis's `geohash_move_y`.
    static func moveY(_ box: Box, _ d: Int) -> Box { move(box, d, along: latitudeBits, across: longitudeBits) }

    /// Adds or subtracts one to the coordinate whose bits are `along`, carrying through the
    /// other coordinate's bits (`across`, filled with ones) and keeping those as they were.
    private static func move(_ box: Box, _ d: Int, along: UInt64, across: UInt64) -> Box {
        let shift = UInt64(64 - box.step * 2)
        let kept = box.bits & across, coordinate = box.bits & along
        let filler = across >> shift
        var moved = d > 0 ? coordinate &+ (filler &+ 1) : (coordinate | filler) &- (filler &+ 1)
        moved &= along >> shift
        return Box(bits: moved | kept, step: box.step)
    }

    /// Redis's `geohashCalculateAreasByShapeWGS84`: the centre box and its eight neighbours in
    /// Redis's order (centre, N, S, E, W, NE, NW, SE, SW), the useless ones as `.none`.
    static func searchBoxes(_ shape: Shape) -> [Box] {
        let (minLon, minLat, maxLon, maxLat) = shape.bounds
        var step = estimateStep(radiusMeters: shape.radiusMeters, latitude: shape.latitude)
        func around(_ step: Int) -> (Box, [Box]) {
            let centre = encode(longitude: shape.longitude, latitude: shape.latitude, step: step) ?? Box(bits: 0, step: step)
            return (centre, [moveY(centre, 1), moveY(centre, -1), moveX(centre, 1), moveX(centre, -1),
                             moveY(moveX(centre, 1), 1), moveY(moveX(centre, -1), 1),
                             moveY(moveX(centre, 1), -1), moveY(moveX(centre, -1), -1)])
        }
        var (centre, n) = around(step)
        let north = decode(n[0]), south = decode(n[1]), east = decode(n[2]), west = decode(n[3])
        let tooSmall = north.latitudeMax < maxLat || south.latitudeMin > minLat
            || east.longitudeMax < maxLon || west.longitudeMin > minLon
        if step > 1 && tooSmall {
            step -= 1
            (centre, n) = around(step)
        }
        let area = decode(centre)
        if step >= 2 {
            // n: 0 N, 1 S, 2 E, 3 W, 4 NE, 5 NW, 6 SE, 7 SW
            if area.latitudeMin < minLat { for i in [1, 7, 6] { n[i] = .none } }
            if area.latitudeMax > maxLat { for i in [0, 4, 5] { n[i] = .none } }
            if area.longitudeMin < minLon { for i in [3, 7, 5] { n[i] = .none } }
            if area.longitudeMax > maxLon { for i in [2, 6, 4] { n[i] = .none } }
        }
        return [centre] + n
    }

    /// The score interval [min, max) of the members inside a box.
    static func scoreInterval(_ box: Box) -> (min: Double, max: Double) {
        let shift = UInt64(52 - box.step * 2)
        return (Double(box.bits << shift), Double((box.bits + 1) << shift))
    }
}

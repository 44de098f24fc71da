/// The ASCII graph of LATENCY GRAPH, drawn as Redis's sparklines are: each sample a column,
/// its height in `rows` rows of three levels each (`_`, `o`, `#`, with `|` below the top of a
/// filled column), then a blank row and each sample's label written downwards beneath it; a
/// sequence longer than `columns` continues in another block after an empty line.
struct Sparkline {
    struct Point {
        var value: Double
        /// Nil or non-empty.
        var label: [UInt8]?
    }

    private(set) var points: [Point] = []
    private var lowest = 0.0
    private var highest = 0.0
    private var labelled = 0

    mutating func append(_ value: Double, label: String?) {
        if points.isEmpty {
            lowest = value
            highest = value
        } else {
            lowest = min(lowest, value)
            highest = max(highest, value)
        }
        let bytes = label.map { Array($0.utf8) }
        points.append(Point(value: value, label: bytes?.isEmpty == false ? bytes : nil))
        if bytes?.isEmpty == false { labelled += 1 }
    }

    /// The graph, every line ending in a newline.
    func render(columns: Int, rows: Int) -> [UInt8] {
        var out: [UInt8] = []
        for first in stride(from: 0, to: points.count, by: columns) {
            if first != 0 { out.append(Self.newline) }
            renderBlock(points[first..<min(first + columns, points.count)], rows: rows, into: &out)
        }
        return out
    }

    private static let levels: [UInt8] = Array("_o#".utf8)
    private static let newline = UInt8(ascii: "\n")
    private static let space = UInt8(ascii: " ")

    private func renderBlock(_ block: ArraySlice<Point>, rows: Int, into out: inout [UInt8]) {
        let range = highest - lowest == 0 ? 1 : highest - lowest
        let steps = Self.levels.count * rows
        // The level of each column, 0 to steps - 1: the scaled value truncated before the
        // division, as Redis computes it.
        let heights = block.map { point -> Int in
            let step = Int(Double(Int((point.value - lowest) * Double(steps))) / range)
            return min(max(step, 0), steps - 1)
        }
        var row = 0
        while true {
            var line = [UInt8](repeating: Self.space, count: block.count)
            var drawn = false
            if row < rows {
                drawn = !block.isEmpty
                let floor = (rows - row - 1) * Self.levels.count
                for (column, height) in heights.enumerated() {
                    let level = height - floor
                    if level >= Self.levels.count {
                        line[column] = UInt8(ascii: "|")
                    } else if level >= 0 {
                        line[column] = Self.levels[level]
                    }
                }
            } else if labelled > 0 && row == rows {
                // The blank row between the graph and its labels.
                drawn = !block.isEmpty
            } else {
                let index = row - rows - (labelled > 0 ? 1 : 0)
                for (column, point) in block.enumerated() {
                    if let label = point.label, index < label.count {
                        line[column] = label[index]
                        drawn = true
                    }
                }
            }
            guard drawn else { return }
            out += line
            out.append(Self.newline)
            row += 1
        }
    }
}

/// A plain-text table with aligned columns, for summaries a person reads in a terminal.
struct TextTable {
    enum Alignment: Sendable {
        case left
        case right
    }

    /// A column: its header and which side its cells line up on (numbers right, words left).
    struct Column: Sendable {
        var title: String
        var alignment: Alignment

        init(_ title: String, _ alignment: Alignment = .left) {
            self.title = title
            self.alignment = alignment
        }
    }

    var columns: [Column]
    var rows: [[String]] = []
    /// Between two columns.
    var separator = "  "

    init(_ columns: [Column]) {
        self.columns = columns
    }

    mutating func append(_ row: [String]) {
        rows.append(row)
    }

    /// The header line then one line per row, without trailing spaces. `style` may decorate a
    /// body cell (colour) after its width is measured, so escape codes never upset alignment.
    func lines(style: (_ row: Int, _ column: Int, _ text: String) -> String = { $2 }) -> [String] {
        let widths = columns.indices.map { index in
            ([columns[index].title] + rows.map { index < $0.count ? $0[index] : "" })
                .map(TextWidth.columns).max() ?? 0
        }
        func line(_ cells: [String], row: Int?) -> String {
            let parts = columns.indices.map { index in
                let text = index < cells.count ? cells[index] : ""
                let padding = String(repeating: " ", count: max(0, widths[index] - TextWidth.columns(text)))
                let shown = row.map { style($0, index, text) } ?? text
                return columns[index].alignment == .left ? shown + padding : padding + shown
            }
            var text = parts.joined(separator: separator)
            while text.last == " " { text.removeLast() }
            return text
        }
        return [line(columns.map(\.title), row: nil)] + rows.indices.map { line(rows[$0], row: $0) }
    }
}

/// How many terminal columns text takes, so lines fit the window and columns line up even with
/// CJK names or emoji in a task's output. An approximation of `wcwidth`: combining marks take
/// none, East Asian wide and emoji characters take two, everything else one.
enum TextWidth {
    static func columns(_ text: String) -> Int {
        text.reduce(0) { $0 + columns(of: $1) }
    }

    static func columns(of character: Character) -> Int {
        guard let first = character.unicodeScalars.first else { return 0 }
        if first.properties.generalCategory == .nonspacingMark || first.properties.generalCategory == .enclosingMark {
            return 0
        }
        if character.unicodeScalars.count > 1 && character.unicodeScalars.contains(where: { $0.value == 0xFE0F }) {
            return 2  // an emoji presentation sequence
        }
        return isWide(first.value) ? 2 : 1
    }

    private static func isWide(_ value: UInt32) -> Bool {
        switch value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
            0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
            0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return true
        default:
            return false
        }
    }

    /// `text` cut to at most `width` columns, ending in `…` when something was cut.
    static func truncate(_ text: String, to width: Int) -> String {
        guard width > 0 else { return "" }
        guard columns(text) > width else { return text }
        var result = ""
        var used = 0
        for character in text {
            let size = columns(of: character)
            if used + size > width - 1 { break }
            result.append(character)
            used += size
        }
        return result + "…"
    }
}

/// Durations as people write them (`90s`, `20m`, `2h`, `1h30m`, `14d`), so a typo cannot become
/// "no timeout" or "zero seconds". Days serve `grove clean --older-than`; a timeout may use them too.
public enum TaskDuration {
    /// The duration `text` names, or nil when it is not a positive `<n>d<n>h<n>m<n>s` form.
    public static func parse(_ text: String) -> Duration? {
        var seconds: Int64 = 0
        var digits = ""
        var seen: Set<Character> = []
        var lastUnit = 0
        let order: [Character: Int] = ["d": 1, "h": 2, "m": 3, "s": 4]
        let scale: [Character: Int64] = ["d": 86_400, "h": 3600, "m": 60, "s": 1]
        for character in text {
            if character.isASCII && character.isNumber {
                digits.append(character)
                guard digits.count <= 9 else { return nil }
            } else if let rank = order[character], let unit = scale[character] {
                guard let value = Int64(digits), !seen.contains(character), rank > lastUnit else { return nil }
                seconds += value * unit
                seen.insert(character)
                lastUnit = rank
                digits = ""
            } else {
                return nil
            }
        }
        guard digits.isEmpty, !seen.isEmpty, seconds > 0 else { return nil }
        return .seconds(seconds)
    }

    /// The fix shown with a rejected duration.
    static let expected = "use a positive duration like 90s, 20m, 2h or 1h30m"
}

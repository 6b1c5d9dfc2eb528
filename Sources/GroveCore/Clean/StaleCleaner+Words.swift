import Foundation

/// How `grove clean --stale` words ages in its reasons.
extension StaleCleaner {
    /// "3 days", "5 hours", "12 minutes".
    static func age(_ seconds: TimeInterval) -> String {
        guard seconds.isFinite else { return "ever" }
        let value = max(0, seconds)
        func plural(_ count: Int, _ unit: String) -> String { "\(count) \(unit)\(count == 1 ? "" : "s")" }
        if value >= 2 * 86_400 { return plural(Int(value / 86_400), "day") }
        if value >= 2 * 3600 { return plural(Int(value / 3600), "hour") }
        if value >= 120 { return plural(Int(value / 60), "minute") }
        return plural(Int(value), "second")
    }
}

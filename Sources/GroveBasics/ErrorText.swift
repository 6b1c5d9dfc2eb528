import Foundation

/// What a person reads of an error: its `LocalizedError` description (grove's errors end with
/// the next command), else Swift's plain description of it.
public func describe(_ error: any Error) -> String {
    (error as? any LocalizedError)?.errorDescription ?? String(describing: error)
}

/// The first few items of a list, for a one-line message: "a, b, c, d, e, …".
public func summarize(_ items: [String], limit: Int = 5) -> String {
    items.prefix(limit).joined(separator: ", ") + (items.count > limit ? ", …" : "")
}

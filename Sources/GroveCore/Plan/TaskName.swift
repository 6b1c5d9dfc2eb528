/// Task names become directory and branch components, so they are held to
/// `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`: nothing can escape the worktrees folder or confuse git.
public enum TaskName {
    public static let maximumLength = 64

    /// Whether `name` is usable as a task name.
    public static func isValid(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, scalars.count <= maximumLength, isAlphanumeric(first) else { return false }
        return scalars.allSatisfy(isAllowed)
    }

    /// Why `name` is invalid and how to fix it (only meaningful when `isValid` is false).
    static func problem(_ name: String) -> String {
        let shown = "\"\(name)\""
        if name.isEmpty { return "task name is empty; give a name like \"fix-auth\"" }
        if name.unicodeScalars.count > maximumLength {
            return "task name \(shown) is longer than \(maximumLength) characters; shorten it"
        }
        let suggestion = sanitized(name)
        return "invalid task name \(shown): use letters, digits, \".\", \"_\" and \"-\", starting with a letter"
            + " or digit, at most \(maximumLength) characters (e.g. \"\(suggestion)\")"
    }

    /// A valid name made from arbitrary text (a repository's directory name), so fan-out never
    /// fails on a name.
    public static func sanitized(_ text: String) -> String {
        var scalars = text.unicodeScalars.map { isAllowed($0) ? Character($0) : "-" }
        while let first = scalars.first, !(first.unicodeScalars.first.map(isAlphanumeric) ?? false) {
            scalars.removeFirst()
        }
        let name = String(scalars.prefix(maximumLength))
        return name.isEmpty ? "repo" : name
    }

    /// `base`, or `base-2`, `base-3`… the first one not in `taken` (kept within the length limit).
    static func unique(_ base: String, avoiding taken: Set<String>) -> String {
        if !taken.contains(base) { return base }
        var number = 2
        while true {
            let suffix = "-\(number)"
            let candidate = String(base.prefix(maximumLength - suffix.count)) + suffix
            if !taken.contains(candidate) { return candidate }
            number += 1
        }
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9": return true
        default: return false
        }
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        isAlphanumeric(scalar) || scalar == "." || scalar == "_" || scalar == "-"
    }
}

import Clibgit2
import Foundation
import GroveBasics

/// A failed libgit2 call: which function, libgit2's error code and class, and its message.
public struct GitError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The libgit2 function that failed, e.g. `git_worktree_add`.
    public let function: String
    /// libgit2's return value (`git_error_code`), e.g. -3 for not found.
    public let code: Int32
    /// libgit2's error class (`git_error_t`), e.g. 29 for worktree errors.
    public let errorClass: Int32
    public let message: String

    /// An error of grove's own, classed like libgit2's (`GIT_ERROR_WORKTREE`…).
    init(function: String, code: Int32, errorClass: git_error_t, message: String) {
        self.init(function: function, code: code, errorClass: Int32(bitPattern: errorClass.rawValue), message: message)
    }

    public init(function: String, code: Int32, errorClass: Int32, message: String) {
        self.function = function
        self.code = code
        self.errorClass = errorClass
        self.message = message
    }

    /// Builds the error from `git_error_last()`, which is thread-local: call it right after the
    /// failing call, on the same thread, with nothing in between.
    /// The error is consumed (cleared) so that a later call that fails without setting one
    /// cannot be reported with this stale message.
    static func last(_ function: String, code: Int32) -> GitError {
        defer { git_error_clear() }
        if let last = git_error_last(), let text = last.pointee.message {
            return GitError(
                function: function, code: code, errorClass: last.pointee.klass,
                message: String(cString: text).trimmingTrailingNewlines())
        }
        return GitError(
            function: function, code: code, errorClass: 0, message: "libgit2 error \(code)")
    }

    /// Throws when `result` is negative; returns it otherwise (some calls answer 0/1).
    @discardableResult
    static func check(_ result: Int32, _ function: String) throws -> Int32 {
        if result < 0 { throw last(function, code: result) }
        return result
    }

    public var description: String {
        "\(message) (\(function), class \(className))"
    }

    /// The name of libgit2's error class, for messages.
    public var className: String {
        let names: [Int32: String] = [
            0: "none", 1: "nomemory", 2: "os", 3: "invalid", 4: "reference", 5: "zlib",
            6: "repository", 7: "config", 8: "regex", 9: "odb", 10: "index", 11: "object",
            12: "net", 13: "tag", 14: "tree", 15: "indexer", 16: "ssl", 17: "submodule",
            18: "thread", 19: "stash", 20: "checkout", 21: "fetchhead", 22: "merge", 23: "ssh",
            24: "filter", 25: "revert", 26: "callback", 27: "cherrypick", 28: "describe",
            29: "rebase", 30: "filesystem", 31: "patch", 32: "worktree", 33: "sha1", 34: "http",
            35: "internal",
        ]
        return names[errorClass] ?? "\(errorClass)"
    }

    public var isNotFound: Bool { code == GIT_ENOTFOUND.rawValue }
    public var isExists: Bool { code == GIT_EEXISTS.rawValue }
    public var isModified: Bool { code == GIT_EMODIFIED.rawValue }
    public var isLocked: Bool { code == GIT_ELOCKED.rawValue }
}

extension GitError: LocalizedError {
    public var errorDescription: String? { description }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }
}

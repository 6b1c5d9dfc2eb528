import Clibgit2
import Foundation

/// Who made a commit: name, email and when.
public struct Signature: Sendable, Hashable {
    public let name: String
    public let email: String
    public let time: Date
    /// Offset from UTC in minutes.
    public let timeZoneOffset: Int32

    public init(name: String, email: String, time: Date = Date(), timeZoneOffset: Int32? = nil) {
        self.name = name
        self.email = email
        self.time = time
        self.timeZoneOffset = timeZoneOffset ?? Int32(TimeZone.current.secondsFromGMT(for: time) / 60)
    }

    init(_ raw: UnsafePointer<git_signature>) {
        self.name = String(cString: raw.pointee.name)
        self.email = String(cString: raw.pointee.email)
        self.time = Date(timeIntervalSince1970: TimeInterval(raw.pointee.when.time))
        self.timeZoneOffset = raw.pointee.when.offset
    }

    /// The identity used when git config has no `user.name`/`user.email`.
    public static let fallbackName = "grove"
    public static let fallbackEmail = "grove@localhost"

    /// A libgit2 signature for one call; the caller frees it.
    func makeRaw() throws -> UnsafeMutablePointer<git_signature> {
        var out: UnsafeMutablePointer<git_signature>?
        try GitError.check(
            git_signature_new(&out, name, email, git_time_t(time.timeIntervalSince1970), Int32(timeZoneOffset)),
            "git_signature_new")
        guard let out else {
            throw GitError(function: "git_signature_new", code: -1, errorClass: GIT_ERROR_NONE, message: "no signature")
        }
        return out
    }
}

extension Repository {
    /// The identity from git config (`user.name`, `user.email`), now; whichever of the two is
    /// missing falls back to `grove` / `grove@localhost`. (libgit2 1.5.1 does not read the
    /// `GIT_AUTHOR_*` variables.)
    public func defaultSignature() throws -> Signature {
        let config = try make("git_repository_config_snapshot") { git_repository_config_snapshot(&$0, pointer) }
        defer { git_config_free(config) }
        func value(_ key: String) -> String? {
            var text: UnsafePointer<CChar>?
            guard git_config_get_string(&text, config, key) == 0, let text else {
                git_error_clear()
                return nil
            }
            let value = String(cString: text)
            return value.isEmpty ? nil : value
        }
        return Signature(
            name: value("user.name") ?? Signature.fallbackName, email: value("user.email") ?? Signature.fallbackEmail)
    }
}

import Clibgit2

/// A git object id (SHA-1): a small value, safe to pass between threads and store.
public struct ObjectID: Hashable, Sendable, CustomStringConvertible {
    var oid: git_oid

    init(_ oid: git_oid) {
        self.oid = oid
    }

    init(_ pointer: UnsafePointer<git_oid>) {
        self.oid = pointer.pointee
    }

    /// Parses a full 40-character hex id; nil for anything else.
    public init?(hex: String) {
        guard hex.utf8.count == Int(GIT_OID_HEXSZ), hex.utf8.allSatisfy(\.isHexDigit) else {
            return nil
        }
        Git.ensureInitialized()
        var oid = git_oid()
        guard git_oid_fromstr(&oid, hex) == 0 else { return nil }
        self.oid = oid
    }

    /// The 40-character lowercase hex form.
    public var hex: String {
        var oid = self.oid
        var buffer = [CChar](repeating: 0, count: Int(GIT_OID_HEXSZ))
        git_oid_fmt(&buffer, &oid)
        return String(decoding: buffer.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The first seven hex digits, for people.
    public var short: String { String(hex.prefix(7)) }

    public var description: String { hex }

    /// True for the all-zero id libgit2 uses for "no object".
    public var isZero: Bool {
        var oid = self.oid
        return git_oid_is_zero(&oid) != 0
    }

    public static func == (lhs: ObjectID, rhs: ObjectID) -> Bool {
        var left = lhs.oid
        var right = rhs.oid
        return git_oid_equal(&left, &right) != 0
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes(of: oid) { hasher.combine(bytes: $0) }
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (48...57).contains(self) || (97...102).contains(self) || (65...70).contains(self)
    }
}

/// What grove launched for a task, as much as someone must know to end it after grove died.
/// Stored in the state (`task.claim`, `merge.check_claim`) instead of bare pid columns, so that
/// recovery asks the launcher that made it (`TaskLauncher.reap`), whatever the back end: a
/// process group today, a cluster job tomorrow, each a new case here and nowhere else.
public enum ProcessClaim: Sendable, Equatable {
    /// A process group on this machine; its id is its leader's pid.
    case processGroup(Int32)

    /// The local process id behind the claim, when there is one (events show it).
    public var processID: Int32? {
        switch self {
        case .processGroup(let id): id
        }
    }
}

extension ProcessClaim: Codable {
    // Stored as `{"kind":"process_group","pgid":123}`: readable in the database, and a kind
    // added later does not change how the existing ones read.
    private enum CodingKeys: String, CodingKey {
        case kind, pgid
    }

    private enum Kind: String, Codable {
        case processGroup = "process_group"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Kind.self, forKey: .kind) {
        case .processGroup: self = .processGroup(try container.decode(Int32.self, forKey: .pgid))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .processGroup(let id):
            try container.encode(Kind.processGroup, forKey: .kind)
            try container.encode(id, forKey: .pgid)
        }
    }
}

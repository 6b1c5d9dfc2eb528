import Foundation

/// Where the secrets for one remote operation may come from. libgit2 only ever sees a URL
/// without credentials (`RemoteURL.withoutCredentials`); when the server asks, the credential
/// callback offers these sources in turn, each at most once, and then gives up, so a wrong
/// password fails after a few round trips instead of libgit2's 15 replays (http) or forever (ssh).
///
/// For a user name and password (http, or ssh password auth), in this order:
/// 1. the URL's own `user:password` — a lone `user` (often a token) is tried with an empty password;
/// 2. `token` (`GROVE_TOKEN`), as the password of the URL's user, else of `x-access-token`;
/// 3. git's credential helpers through `git credential fill`, never prompting.
///
/// For ssh keys: the ssh agent, once.
public struct Credentials: Sendable {
    /// The user name, usually from the URL.
    public var username: String?
    /// The password or token, usually from the URL.
    public var password: String?
    /// A token to offer as the password, usually `GROVE_TOKEN`; only sent over http(s).
    public var token: String?
    /// Whether to ask the ssh agent for a key.
    public var useSSHAgent: Bool
    /// Whether to ask git's credential helpers (`git credential fill`); only for http(s).
    public var useCredentialHelper: Bool
    /// The environment `git credential fill` runs in (it decides which git config, and so which
    /// helpers, apply); nil means this process's.
    public var helperEnvironment: [String: String]?

    public init(
        username: String? = nil, password: String? = nil, token: String? = nil, useSSHAgent: Bool = true,
        useCredentialHelper: Bool = true, helperEnvironment: [String: String]? = nil
    ) {
        self.username = username
        self.password = password
        self.token = token
        self.useSSHAgent = useSSHAgent
        self.useCredentialHelper = useCredentialHelper
        self.helperEnvironment = helperEnvironment
    }

    /// Everything available for `url`: its userinfo, `GROVE_TOKEN`, the ssh agent and the
    /// credential helpers, with `environment` also being where the helpers run.
    public static func forURL(
        _ url: RemoteURL, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Credentials {
        let token = environment["GROVE_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return Credentials(
            username: url.username, password: url.password, token: token, helperEnvironment: environment)
    }

    /// Everything available for a configured remote (or a URL or path given instead of a
    /// name): its URL in the config holds no secret, so `GROVE_TOKEN`, the helpers or the agent.
    public static func forRemote(
        _ remoteOrURL: String, in repository: Repository,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Credentials {
        let url = (try? repository.remoteURL(named: remoteOrURL)) ?? nil
        return forURL(RemoteURL(url ?? remoteOrURL), environment: environment)
    }

    /// Nothing beyond libgit2's defaults: no callback, unless the URL itself carries credentials.
    public static let none = Credentials(useSSHAgent: false, useCredentialHelper: false)

    /// These credentials, with the URL's user name and password where none were given, so a
    /// `user:secret@` URL still authenticates once its secret has been stripped for libgit2.
    func filling(from url: RemoteURL) -> Credentials {
        var filled = self
        if filled.username == nil && filled.password == nil {
            filled.username = url.username
            filled.password = url.password
        }
        return filled
    }

    /// Whether there is anything at all to offer (if not, no callback is installed).
    var isEmpty: Bool {
        username == nil && password == nil && token == nil && !useSSHAgent && !useCredentialHelper
    }
}

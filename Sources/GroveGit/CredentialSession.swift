import Clibgit2

/// One remote operation's walk through `Credentials`, driven by libgit2's credential callback:
/// which sources were offered, which one worked, and whether they ran out. libgit2 asks again
/// each time the server refuses (http up to 15 times, ssh without end), so every source is
/// offered at most once and then the callback fails, remembering that authentication failed.
final class CredentialSession {
    private enum Source: CaseIterable {
        case url, token, helper
    }

    private let credentials: Credentials
    private var tried: Set<Source> = []
    private var lastOffered: Source?
    private var triedSSHAgent = false
    /// `git credential fill` runs once per operation; its answer is reused after a reconnect.
    private var helperAnswer: (username: String, password: String)??
    /// Every source was offered and refused: the operation failed for lack of credentials.
    private(set) var exhausted = false

    /// nil when there is nothing to offer, so no callback is installed at all.
    init?(_ credentials: Credentials) {
        guard !credentials.isEmpty else { return nil }
        self.credentials = credentials
    }

    /// The secrets this session holds or handed out, to scrub from any message.
    var secrets: [String] {
        var secrets = [credentials.password, credentials.token]
        if case .some(.some(let answer)) = helperAnswer { secrets.append(answer.password) }
        return secrets.compactMap { $0 }.filter { !$0.isEmpty }
    }

    /// The credential that was offered last got through (a connection succeeded): offer it
    /// first again when a later connection of the same operation asks (push connects twice).
    func accept() {
        if let lastOffered { tried.remove(lastOffered) }
        triedSSHAgent = false
    }

    /// Answers libgit2's `git_credential_acquire_cb`.
    func acquire(
        _ out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>, url: String, usernameFromURL: String?,
        allowed: UInt32
    ) -> Int32 {
        let remote = RemoteURL(url)
        if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 && credentials.useSSHAgent && !triedSSHAgent {
            triedSSHAgent = true
            let user = credentials.username ?? usernameFromURL ?? "git"
            return git_credential_ssh_key_from_agent(out, user)
        }
        if allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 {
            for source in Source.allCases where !tried.contains(source) {
                tried.insert(source)
                if let (user, password) = value(of: source, for: remote) {
                    lastOffered = source
                    return git_credential_userpass_plaintext_new(out, user, password)
                }
            }
        }
        if allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0 {
            return git_credential_username_new(out, credentials.username ?? usernameFromURL ?? "git")
        }
        exhausted = true
        // libgit2 sets no error of its own when the callback fails; without this one a stale
        // message from some earlier call would be reported.
        git_error_set_str(
            Int32(GIT_ERROR_CALLBACK.rawValue), "authentication failed: no more credentials to offer")
        return GIT_EAUTH.rawValue
    }

    /// What `source` has for `remote`, if anything.
    private func value(of source: Source, for remote: RemoteURL) -> (String, String)? {
        let overHTTP = remote.scheme == "https" || remote.scheme == "http"
        switch source {
        case .url:
            // A lone http user name may be a token: offer it with an empty password. Over ssh a
            // user name alone is no password, so there is nothing to offer.
            guard credentials.password != nil || (overHTTP && credentials.username != nil) else { return nil }
            return (credentials.username ?? "", credentials.password ?? "")
        case .token:
            guard overHTTP, let token = credentials.token else { return nil }
            return (credentials.username ?? "x-access-token", token)
        case .helper:
            guard overHTTP, credentials.useCredentialHelper else { return nil }
            if helperAnswer == nil {
                helperAnswer = CredentialHelper.fill(
                    url: remote, username: credentials.username, environment: credentials.helperEnvironment)
            }
            return helperAnswer?.map { ($0.username, $0.password) }
        }
    }
}

import Foundation
import GroveGit

/// A URL repository of a run: the URL to clone or fetch, and where its clone lives in the cache.
public struct RemoteSource: Sendable, Equatable {
    /// The URL as given, credentials included. It stays in memory, to authenticate this run's
    /// clone or fetch; it is never stored, logged or printed (safety promise 5).
    public let url: String
    /// `$GROVE_HOME/repos/<host>/<path>.git`.
    public let cachePath: String

    public init(url: String, cachePath: String) {
        self.url = url
        self.cachePath = cachePath
    }

    /// The URL without credentials: what grove shows and stores.
    public var display: String { RemoteURL(url).withoutCredentials }

    /// `text` with this URL's secret, in any spelling of it, replaced by `***`: for messages
    /// from elsewhere (a file-system error naming a path) that might quote it.
    public func scrub(_ text: String) -> String {
        var text = text.replacingOccurrences(of: url, with: display)
        for secret in RemoteURL(url).secrets where !secret.isEmpty {
            text = text.replacingOccurrences(of: secret, with: "***")
            if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) {
                text = text.replacingOccurrences(of: encoded, with: "***")
            }
        }
        return text
    }

    /// The credentials to authenticate with: the URL's own, else `GROVE_TOKEN`, git's credential
    /// helpers or the ssh agent.
    public var credentials: Credentials { Credentials.forURL(RemoteURL(url)) }
}

import Testing

@testable import GroveGit

@Suite("Repository locations")
struct RepositoryLocationTests {
    /// git's rule (`url_is_local_not_ssh`): a colon with no `/` before it means ssh, not a path.
    @Test(arguments: [
        ("https://example.com/org/repo.git", "network"),
        ("ssh://git@example.com/org/repo", "network"),
        ("git@github.com:org/repo.git", "network"),
        ("github.com:org/repo", "network"),
        ("file:///srv/git/repo.git", "file"),
        ("../svc", "path"),
        ("./a@b:c/d", "path"),
        ("/abs/with:colon", "path"),
        ("repo", "path"),
    ])
    func classifiesLikeGit(source: String, kind: String) {
        let location = RepositoryLocation(source)
        switch location {
        case .network: #expect(kind == "network", "\(source) → \(location)")
        case .fileURL: #expect(kind == "file", "\(source) → \(location)")
        case .path: #expect(kind == "path", "\(source) → \(location)")
        }
    }

    @Test func localSourcesHaveAbsolutePaths() {
        #expect(RepositoryLocation("file:///srv/git/repo.git").localPath == "/srv/git/repo.git")
        #expect(RepositoryLocation("/srv/x/../repo").localPath == "/srv/repo")
        #expect(RepositoryLocation("git@host:repo").localPath == nil)
    }

    /// git ignores a `file://` URL's userinfo; so does grove, and it keeps none of it.
    @Test func aFileURLDropsItsUserinfo() {
        let location = RepositoryLocation("file://user:s3cretPW@/srv/git/repo.git")
        #expect(location == .fileURL(url: "file:///srv/git/repo.git", path: "/srv/git/repo.git"))
        #expect(location.localPath == "/srv/git/repo.git")
        #expect(RepositoryLocation("user:s3cretPW@host:repo") == .network("user:s3cretPW@host:repo"))
    }
}

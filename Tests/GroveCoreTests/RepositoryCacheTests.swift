import Foundation
import GroveCore
import GroveGit
import TestSupport
import Testing

/// The clone cache on its own: where entries live, clone then fetch, and how a task's base is
/// taken from the remote without losing what the cache's own branch holds.
@Suite("repository cache")
struct RepositoryCacheTests {
    let sandbox: Sandbox
    let cache: RepositoryCache

    init() throws {
        sandbox = try Sandbox()
        cache = RepositoryCache(home: GroveHome(path: sandbox.child("home")))
    }

    @Test func entriesAreNamedAfterHostAndPathAndStayInsideTheCache() {
        let root = cache.root
        #expect(cache.path(for: "https://alice:pw@github.com/org/repo") == root + "/github.com/org/repo.git")
        #expect(cache.path(for: "https://github.com/org/repo.git/") == root + "/github.com/org/repo.git")
        #expect(cache.path(for: "git@github.com:org/repo.git") == root + "/github.com/org/repo.git")
        #expect(cache.path(for: "ssh://git@git.example.com:2222/a/b") == root + "/git.example.com_2222/a/b.git")
        #expect(cache.path(for: "file:///srv/git/x.git") == root + "/file/srv/git/x.git")
        // Credentials never name an entry: every form shares the entry of its URL without them.
        #expect(cache.path(for: "file://user:s3cretPW@/srv/git/x.git") == root + "/file/srv/git/x.git")
        #expect(cache.path(for: "git:s3cretPW@github.com:org/repo.git") == root + "/github.com/org/repo.git")
        #expect(cache.path(for: "https://us%40er:p%40ss@github.com/org/repo") == root + "/github.com/org/repo.git")
        #expect(
            cache.path(for: "ssh://git:s3cretPW@git.example.com:2222/a/b") == root + "/git.example.com_2222/a/b.git")
        #expect(cache.path(for: "https://evil.example/../../etc/passwd") == root + "/evil.example/__/__/etc/passwd.git")
        #expect(cache.path(for: "https://h/a b/c%d") == root + "/h/a_b/c_d.git")
        #expect(!cache.path(for: "https://h").contains(".."))
    }

    func source(_ name: String) throws -> (work: TestRepository, url: String) {
        let work = try sandbox.repository("work-\(name)")
        let bare = sandbox.child("\(name).git")
        try Shell.run(["git", "clone", "-q", "--bare", work.path, bare])
        try work.git("remote", "add", "origin", bare)
        return (work, "file://" + bare)
    }

    @Test func cloneThenFetchAndTheBaseComesFromTheRemote() throws {
        let (work, url) = try source("upstream")
        let entry = RemoteSource(url: url, cachePath: cache.path(for: url))
        let cloned = try cache.sync(entry)
        #expect(cloned.action == .cloned)
        #expect(cloned.defaultBranch == "main")
        let clone = TestRepository(existing: cloned.path)
        #expect(try clone.output("rev-parse", "refs/remotes/origin/main") == (try work.revParse("main")))

        // The cache's main gets a commit of its own (landed, not pushed) while upstream moves on.
        let local = try clone.output("commit-tree", "-p", "main", "-m", "landed here", "main^{tree}")
        try clone.git("update-ref", "refs/heads/main", local)
        let upstream = try work.commit("upstream", files: ["U.md": "u\n"])
        try work.git("push", "-q", "origin", "main")
        let fetched = try cache.sync(entry)
        #expect(fetched.action == .fetched)
        let base = try RepositoryCache.resolveBase(nil, in: fetched, display: url)
        #expect(base.name == "main")
        #expect(base.commit.hex == upstream)
        #expect(try clone.output("rev-parse", "refs/heads/main") == local)

        // A branch only upstream has is created locally at its tip; a behind one fast-forwards.
        try work.git("branch", "release")
        try work.git("push", "-q", "origin", "release")
        let again = try cache.sync(entry)
        let release = try RepositoryCache.resolveBase("release", in: again, display: url)
        #expect(try clone.output("rev-parse", "refs/heads/release") == release.commit.hex)
        let error = #expect(throws: CacheError.self) {
            try RepositoryCache.resolveBase("relaese", in: again, display: url)
        }
        #expect(error?.errorDescription?.contains("did you mean \"release\"") == true)
    }

    @Test func aMissingSourceLeavesNoEntryBehind() throws {
        let url = "file://" + sandbox.child("nothing-here.git")
        let entry = RemoteSource(url: url, cachePath: cache.path(for: url))
        let error = #expect(throws: RemoteError.self) { try cache.sync(entry) }
        #expect(error?.kind == .notFound)
        let folder = (entry.cachePath as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }
}

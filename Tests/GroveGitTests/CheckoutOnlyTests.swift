import Foundation
import GroveGit
import TestSupport
import Testing

/// `holdsOnlyCheckout`: telling the folder a killed `worktree add` left (nothing but what the
/// checkout writes) from one holding anyone's files. The checkout is made by the git CLI.
@Suite struct CheckoutOnlyTests {
    let sandbox: Sandbox
    let repo: TestRepository
    let folder: String

    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository(
            files: ["README.md": "hello\n", "src/app.txt": "app\n", "src/deep/x.txt": "x\n", "run.sh": "echo\n"])
        try repo.git("update-index", "--chmod=+x", "run.sh")
        try FileManager.default.createSymbolicLink(atPath: repo.path + "/link", withDestinationPath: "src/app.txt")
        try repo.commit("link and mode")
        folder = sandbox.child("wt")
        try repo.git("worktree", "add", "-q", "--detach", folder, "main")
    }

    func holdsOnlyCheckout() throws -> Bool {
        let head = try #require(ObjectID(hex: try repo.revParse("main")))
        return try repo.open().holdsOnlyCheckout(of: head, at: folder)
    }

    @Test func aWholeCheckoutAPartOfOneAndAnEmptyFolderHoldOnlyTheCheckout() throws {
        #expect(try holdsOnlyCheckout())
        try FileManager.default.removeItem(atPath: folder + "/src/deep")
        try FileManager.default.removeItem(atPath: folder + "/README.md")
        #expect(try holdsOnlyCheckout())
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            try FileManager.default.removeItem(atPath: folder + "/" + name)
        }
        #expect(try holdsOnlyCheckout())
    }

    @Test(arguments: ["edited", "new file", "new folder", "link changed", "git directory", "foreign git file"])
    func anythingElseIsSomeonesWork(_ change: String) throws {
        switch change {
        case "edited":
            try "changed\n".write(toFile: folder + "/src/app.txt", atomically: false, encoding: .utf8)
        case "new file":
            try "mine\n".write(toFile: folder + "/src/deep/notes.txt", atomically: false, encoding: .utf8)
        case "new folder":
            try FileManager.default.createDirectory(atPath: folder + "/build", withIntermediateDirectories: false)
        case "link changed":
            try FileManager.default.removeItem(atPath: folder + "/link")
            try FileManager.default.createSymbolicLink(atPath: folder + "/link", withDestinationPath: "README.md")
        case "git directory":
            try FileManager.default.removeItem(atPath: folder + "/.git")
            try Shell.run(["git", "init", "-q", folder])
        default:
            try "gitdir: /elsewhere/.git/worktrees/wt\n".write(
                toFile: folder + "/.git", atomically: false, encoding: .utf8)
        }
        #expect(try !holdsOnlyCheckout(), "\(change)")
        // git agrees something is there that the checkout did not write (or it is not git's);
        // an empty folder git does not show, but the user made it: kept too.
        guard change != "new folder" && change != "git directory" else { return }
        let status = try Shell.run(["git", "-C", folder, "status", "--porcelain"], check: false)
        #expect(status.status != 0 || !status.output.isEmpty, "\(change)")
    }
}

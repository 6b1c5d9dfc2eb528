import Foundation
import TestSupport
import Testing

@testable import GroveGit

@Suite("In-memory objects")
struct InMemoryObjectsTests {
    @Test func aRebaseThroughAnInMemoryHandleWritesNothingToDisk() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["a.txt": "a\n"])
        try repo.git("switch", "-q", "-c", "task")
        try repo.commit("task", files: ["b.txt": "b\n"])
        try repo.git("switch", "-q", "main")
        try repo.commit("main", files: ["c.txt": "c\n"])
        let objects = try repo.output("count-objects", "-v")
        let files = try FileManager.default.subpathsOfDirectory(atPath: repo.path + "/.git/objects").sorted()

        let repository = try repo.open()
        try repository.keepNewObjectsInMemory()
        let task = try repository.resolveCommit("task")
        let main = try repository.resolveCommit("main")
        guard case .rebased(let tip, let commits) = try repository.rebaseInMemory(task, onto: main) else {
            Issue.record("the rebase conflicted")
            return
        }
        #expect(commits.count == 1)
        // This handle reads what it wrote; the disk has none of it.
        #expect(try repository.commit(tip).parents == [main])
        #expect(try Repository.open(at: repo.path).hasObject(tip) == false)
        #expect(try repo.output("count-objects", "-v") == objects)
        #expect(try FileManager.default.subpathsOfDirectory(atPath: repo.path + "/.git/objects").sorted() == files)
    }
}

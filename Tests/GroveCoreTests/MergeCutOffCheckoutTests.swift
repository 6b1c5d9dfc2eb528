import Foundation
import GroveGit
import TestSupport
import Testing

@testable import GroveCore

/// A merge killed while it wrote the main checkout's files (the ref not moved yet) leaves
/// candidate files there; the next merge puts them back and lands the task, keeping whatever
/// the user changed.
@Suite("Merge recovery of a cut-off checkout")
struct MergeCutOffCheckoutTests {
    /// The journal row a merge killed between writing files and moving base leaves behind.
    func cutOffRow(_ fixture: MergeFixture, run: Int, task: String) throws -> MergeRecord {
        let record = try fixture.task(run, task)
        var row = MergeRecord(
            run: run, task: task, repo: fixture.repo.path, base: "main", branch: record.branch, step: .landing,
            pid: 1)
        row.oldBase = try fixture.tip("main")
        row.oldTip = try fixture.tip(record.branch)
        // The branch sits on base, so the candidate is its own tip.
        row.candidate = row.oldTip
        row.commits = 1
        return row
    }

    @Test func candidateFilesLeftInTheMainCheckoutAreRolledBackAndTheTaskLands() async throws {
        let fixture = try MergeFixture()
        let run = try await fixture.run([.own("one"), .conflicting("two")])
        try fixture.store.saveMerge(try cutOffRow(fixture, run: run, task: "two"))
        // Half of the checkout was written: the candidate's conflict.txt, not yet its index.
        let candidateText = try fixture.repo.output("show", "grove/\(run)/two:conflict.txt") + "\n"
        try fixture.repo.write(["conflict.txt": candidateText])
        // And the user has a change of their own elsewhere.
        try fixture.repo.write(["notes.txt": "mine\n"])

        let report = try await fixture.merge()
        #expect(report.outcomes.map(\.result) == [.landed, .landed], "\(report.outcomes.map(\.reason))")
        #expect(try fixture.repo.porcelainStatus() == "?? notes.txt")
        #expect(try fixture.repo.read("conflict.txt") == candidateText)
        #expect(try fixture.repo.read("notes.txt") == "mine\n")
        #expect(try fixture.store.inFlightMerges(repo: fixture.repo.path).isEmpty)
    }

    @Test func aLocalEditOfATouchedFileIsNeverOverwritten() async throws {
        let fixture = try MergeFixture()
        let run = try await fixture.run([.conflicting("one")])
        try fixture.store.saveMerge(try cutOffRow(fixture, run: run, task: "one"))
        try fixture.repo.write(["conflict.txt": "the user's own edit\n"])

        let report = try await fixture.merge()
        #expect(report.outcomes.map(\.result) == [.notReached])
        #expect(report.repositories.first?.stopped?.contains("would overwrite local changes (conflict.txt)") == true)
        #expect(try fixture.repo.read("conflict.txt") == "the user's own edit\n")
    }
}

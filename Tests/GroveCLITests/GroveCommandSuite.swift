import Foundation
import GroveCore
import TestSupport
import Testing

/// What a command-line suite works with: one repository, a grove home, and the built grove run
/// against them as a user would — from the repository, with its own home and a user home that
/// has no git configuration, so nothing of the host leaks in.
protocol GroveCommandSuite {
    var sandbox: Sandbox { get }
    var repo: TestRepository { get }
    var home: String { get }
    /// The environment every grove of the suite gets.
    var environment: [String: String] { get }
}

extension GroveCommandSuite {
    var environment: [String: String] { ["GROVE_HOME": home, "HOME": sandbox.path] }

    /// Runs the built grove with `arguments` in `directory` (the repository by default), with
    /// `extra` over the suite's environment.
    func grove(_ arguments: [String], in directory: String? = nil, environment extra: [String: String] = [:]) throws
        -> ProcessResult
    {
        try Shell.run(
            [try builtBinary()] + arguments, in: directory ?? repo.path, environment: environment.merging(extra) { $1 },
            check: false)
    }

    /// `grove status --json [run]`, decoded; the command must succeed.
    func status(_ run: Int? = nil, environment extra: [String: String] = [:]) throws -> StatusReport {
        let result = try grove(["status", "--json"] + (run.map { [String($0)] } ?? []), environment: extra)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode(StatusReport.self, from: Data(result.stdout.utf8))
    }
}

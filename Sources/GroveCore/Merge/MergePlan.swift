import Foundation
import GroveGit

/// `grove merge --plan`: per repository, the order the queue would take and, for each queued
/// task, what it touches, whom it shares paths with, whether it merges cleanly with base and with
/// each other task, and what the queue will meet (predicted by running the queue's own rebases
/// in memory). Computing it writes nothing: no ref, file or object.
public struct MergePlan: Sendable, Equatable, Codable {
    public var run: Int
    public var order: MergeOptions.Order
    public var repositories: [RepositoryPlan]
}

/// One repository's queue, as it would run.
public struct RepositoryPlan: Sendable, Equatable, Codable {
    /// The repository path the queue works in (for a URL repository, its clone in the cache).
    public var repo: String
    /// For a URL repository, the URL as the user gave it without credentials; nil for a local one.
    @Nullable public var source: String?
    /// In landing order.
    public var tasks: [TaskPlan]

    /// How the repository is named to the user: its URL without credentials, else its path.
    public var shown: String { source ?? repo }
}

/// One queued task's prediction.
public struct TaskPlan: Sendable, Equatable, Codable {
    public var task: String
    public var base: String
    public var branch: String
    /// Commits it has that base lacks (a dependent: its own, not its dependencies').
    public var commits: Int
    /// The paths it changed since it left base, or a dependent since it left its dependencies
    /// (renames give both names).
    public var paths: [String]
    /// Other queued tasks of the repository that change some of the same paths: task → paths.
    public var sharesPathsWith: [String: [String]]
    /// True when merging it into the current base tip is clean.
    public var mergesWithBase: Bool
    /// The paths that conflict with the current base tip.
    public var baseConflicts: [String]
    /// Other queued tasks it does not merge cleanly with: task → conflicting paths.
    public var conflictsWith: [String: [String]]
    /// What the queue will make of it, run in this order: `landed`, `conflict`,
    /// `nothing_to_land`, `error` or `blocked` (checks are not predicted).
    public var predicted: MergeResult
    /// For a predicted `conflict`: the paths.
    public var predictedConflicts: [String]
    /// Why it is predicted not to land, when that needs saying.
    @Nullable public var reason: String?

    /// Neither base nor any other queued task is in its way.
    public var conflictsWithNobody: Bool { mergesWithBase && conflictsWith.isEmpty }

    enum CodingKeys: String, CodingKey {
        case task, base, branch, commits, paths, predicted, reason
        case sharesPathsWith = "shares_paths_with"
        case mergesWithBase = "merges_with_base"
        case baseConflicts = "base_conflicts"
        case conflictsWith = "conflicts_with"
        case predictedConflicts = "predicted_conflicts"
    }
}

extension MergeOptions.Order: Codable {}

/// Builds `RepositoryPlan`s. Blocking: call through `Blocking.run`.
enum MergePlanner {
    /// The plan of one repository's queue, in `order` (each task after its dependencies);
    /// `tasks` are in run order. `landed`: tasks of the run an earlier merge landed, which
    /// count as landed dependencies. Without `simulate`, the predicted results are left out
    /// (only the order is wanted).
    static func plan(
        repo: String, tasks: [TaskRecord], order: MergeOptions.Order, committer: Signature?, simulate: Bool = true,
        landed: Set<String> = []
    ) throws -> RepositoryPlan {
        // One handle whose writes stay in memory: the simulated rebases (and anything a merge
        // prediction might write) never reach the object database.
        let repository = try Repository.open(at: repo)
        try repository.keepNewObjectsInMemory()

        struct Facts {
            var task: TaskRecord
            var baseTip: ObjectID?
            var tip: ObjectID?
            var commits = 0
            var paths: Set<String> = []
            var baseConflicts: [String] = []
        }
        var facts: [Facts] = []
        for task in tasks {
            var fact = Facts(task: task)
            fact.baseTip = try repository.branch(named: task.base)?.target
            fact.tip = try repository.branch(named: task.branch)?.target
            if let baseTip = fact.baseTip, let tip = fact.tip {
                fact.commits = try repository.aheadBehind(tip, baseTip).ahead
                // A dependent's own commits and paths: those since it left its dependencies.
                let since =
                    try Rebasing.upstream(of: tip, start: Pipeline.start(of: task), baseTip: baseTip, in: repository)
                    ?? baseTip
                if fact.commits > 0, since != baseTip { fact.commits = try repository.aheadBehind(tip, since).ahead }
                if fact.commits > 0 {
                    for change in try repository.changedPaths(of: tip, since: since) {
                        fact.paths.insert(change.path)
                        if let old = change.oldPath { fact.paths.insert(old) }
                    }
                    if case .conflicts(let paths) = try repository.predictMerge(baseTip, tip) {
                        fact.baseConflicts = paths
                    }
                }
            }
            facts.append(fact)
        }

        // Pairs: only tasks that change a path in common can conflict, so only those are merged.
        var shared: [String: [String: [String]]] = [:]
        var conflicts: [String: [String: [String]]] = [:]
        for (index, one) in facts.enumerated() {
            for other in facts[(index + 1)...] {
                let common = one.paths.intersection(other.paths).sorted()
                guard !common.isEmpty, let oneTip = one.tip, let otherTip = other.tip else { continue }
                shared[one.task.name, default: [:]][other.task.name] = common
                shared[other.task.name, default: [:]][one.task.name] = common
                if case .conflicts(let paths) = try repository.predictMerge(oneTip, otherTip) {
                    conflicts[one.task.name, default: [:]][other.task.name] = paths
                    conflicts[other.task.name, default: [:]][one.task.name] = paths
                }
            }
        }

        var plans = facts.map { fact in
            TaskPlan(
                task: fact.task.name, base: fact.task.base, branch: fact.task.branch, commits: fact.commits,
                paths: fact.paths.sorted(), sharesPathsWith: shared[fact.task.name] ?? [:],
                mergesWithBase: fact.baseConflicts.isEmpty, baseConflicts: fact.baseConflicts,
                conflictsWith: conflicts[fact.task.name] ?? [:], predicted: .landed, predictedConflicts: [])
        }
        if order == .planned { plans = ordered(plans) }
        let records = Dictionary(tasks.map { ($0.name, $0) }) { first, _ in first }
        plans = Pipeline.ordered(plans, name: \.task) { records[$0.task]?.dependsOn ?? [] }
        let source = tasks.first?.source
        guard simulate else { return RepositoryPlan(repo: repo, source: source, tasks: plans) }

        // Run the queue's own rebases, in order, against simulated base tips.
        let tips = Dictionary(facts.map { ($0.task.name, $0.tip) }) { first, _ in first }
        var baseTips: [String: ObjectID] = [:]
        for fact in facts { if let baseTip = fact.baseTip { baseTips[fact.task.base] = baseTip } }
        var dependencies = DependencyResults(landed: landed)
        for index in plans.indices {
            let plan = plans[index]
            guard let task = records[plan.task] else { continue }
            let blockage = dependencies.blockage(of: task)
            defer { dependencies.record(plan.task, plans[index].predicted, blockedBy: blockage) }
            if let blockage {
                plans[index].predicted = .blocked
                plans[index].reason = blockage.reason
                continue
            }
            guard let tip = tips[plan.task] ?? nil else {
                plans[index].predicted = .error
                plans[index].reason = "its branch \(plan.branch) no longer exists"
                continue
            }
            guard let baseTip = baseTips[plan.base] else {
                plans[index].predicted = .error
                plans[index].reason = "its base \(plan.base) no longer exists"
                continue
            }
            let start = Pipeline.start(of: task)
            switch try Rebasing.rebase(tip, onto: baseTip, start: start, in: repository, committer: committer) {
            case .nothingToLand:
                plans[index].predicted = .nothingToLand
            case .conflict(_, let paths):
                plans[index].predicted = .conflict
                plans[index].predictedConflicts = paths
            case .candidate(let newTip, _):
                baseTips[plan.base] = newTip
            }
        }
        return RepositoryPlan(repo: repo, source: source, tasks: plans)
    }

    /// `--order planned`: the tasks that conflict with nobody first, then the others, each group
    /// in run order (a stable partition: the run's order still decides among equals).
    static func ordered(_ plans: [TaskPlan]) -> [TaskPlan] {
        plans.filter(\.conflictsWithNobody) + plans.filter { !$0.conflictsWithNobody }
    }
}

extension MergeQueue {
    /// The plan of every queue (`grove merge --plan`): reads refs and objects, writes nothing.
    /// Tasks an earlier merge landed are left out: the queue would not take them again.
    public func plan() async throws -> MergePlan {
        var repositories: [RepositoryPlan] = []
        for queue in queues {
            let landed = try store.merges(run: run.number).filter { $0.value.step == .cleaned }
            let tasks = queue.tasks.filter { landed[$0.name] == nil }
            let options = options
            var plan = try await Blocking.run {
                try MergePlanner.plan(
                    repo: queue.repo, tasks: tasks, order: options.order, committer: options.committer,
                    landed: Set(landed.keys))
            }
            // Named as the user gave it even when every task of it landed earlier.
            plan.source = queue.tasks.first?.source
            repositories.append(plan)
        }
        return MergePlan(run: run.number, order: options.order, repositories: repositories)
    }
}

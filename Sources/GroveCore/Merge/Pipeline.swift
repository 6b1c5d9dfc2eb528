import GroveGit

/// Pipelines (`depends_on`) in the merge queue: dependencies land before their dependents, a
/// dependent brings only its own commits, and one whose dependency did not land waits for it.
enum Pipeline {
    /// `items` in their order, except that each comes after all of its dependencies among them:
    /// each time, the first item whose dependencies are all placed (a stable topological order,
    /// so tasks without dependencies keep the run's order). Dependencies outside `items` are
    /// ignored; a cycle (the run refuses them) keeps its order.
    static func ordered<Item>(
        _ items: [Item], name: (Item) -> String, dependencies: (Item) -> [String]
    ) -> [Item] {
        let names = Set(items.map(name))
        var placed = Set<String>()
        var remaining = items
        var ordered: [Item] = []
        ordered.reserveCapacity(items.count)
        while !remaining.isEmpty {
            let next =
                remaining.firstIndex { item in
                    dependencies(item).allSatisfy { !names.contains($0) || placed.contains($0) }
                } ?? remaining.startIndex
            let item = remaining.remove(at: next)
            placed.insert(name(item))
            ordered.append(item)
        }
        return ordered
    }

    /// Tasks in landing order: run order, each after its dependencies.
    static func ordered(_ tasks: [TaskRecord]) -> [TaskRecord] {
        ordered(tasks, name: \.name, dependencies: \.dependsOn)
    }

    /// Where a dependent's own commits start: the commit its branch was made from (its
    /// dependency's tip, or their merge). Nil for an independent task, whose commits are all
    /// those its base lacks.
    static func start(of task: TaskRecord) -> ObjectID? {
        guard !task.dependsOn.isEmpty else { return nil }
        return task.baseCommit.flatMap(ObjectID.init(hex:))
    }
}

/// What a queue's tasks (or their simulation in `--plan`) came to so far, to tell whether a
/// dependent may go: a dependency that landed, or had nothing to land, lets it go; any other
/// result blocks it, and its own dependents after it.
struct DependencyResults {
    private var results: [String: MergeResult] = [:]
    /// For a blocked task: the dependency at the bottom of the chain, which did not land.
    private var roots: [String: String] = [:]

    /// `landed`: tasks of the run an earlier merge landed (they are not queued again).
    init(landed: some Sequence<String> = []) {
        for name in landed { results[name] = .landed }
    }

    mutating func record(_ task: String, _ result: MergeResult, blockedBy blockage: Blockage? = nil) {
        results[task] = result
        if let blockage { roots[task] = blockage.root }
    }

    /// A dependency that keeps a task from landing.
    struct Blockage: Equatable {
        /// The task's own dependency that did not land.
        var dependency: String
        /// What it came to; nil when it is not queued here at all.
        var result: MergeResult?
        /// The task that did not land at the bottom of it (`dependency` itself unless it is blocked).
        var root: String
        /// Why, and what to do, for the task's reason.
        var reason: String
    }

    /// The first dependency of `task` that did not land, nil when every one landed or had
    /// nothing to land.
    func blockage(of task: TaskRecord) -> Blockage? {
        for dependency in task.dependsOn {
            guard let result = results[dependency] else {
                return Blockage(
                    dependency: dependency, result: nil, root: dependency,
                    reason: "its dependency \(dependency) is not queued with it (only a run's succeeded tasks of"
                        + " the same repository are); land \(dependency) first, then run `grove merge` again")
            }
            if result.isSuccess { continue }
            if result == .blocked, let root = roots[dependency], let rootResult = results[root] {
                return Blockage(
                    dependency: dependency, result: result, root: root,
                    reason: "its dependency \(dependency) was not landed (blocked: \(root) was not landed,"
                        + " \(rootResult.rawValue)); once \(root) lands, run `grove merge` again")
            }
            return Blockage(
                dependency: dependency, result: result, root: dependency,
                reason: "its dependency \(dependency) was not landed (\(result.rawValue)); once \(dependency)"
                    + " lands, run `grove merge` again")
        }
        return nil
    }
}

import Foundation

/// `--repos-file FILE`: one repository per line, a URL or a path (relative to the file's
/// folder), as if each were given with `--repo`. Blank lines and lines starting with `#` are
/// skipped; surrounding spaces are trimmed.
enum ReposFile {
    static func load(path: String, currentDirectory: String) throws(PlanError) -> [Located<RepositoryReference>] {
        let fullPath = absolute(path, against: currentDirectory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: fullPath, isDirectory: &isDirectory) else {
            throw PlanError(.path(path), "repositories file not found; check the --repos-file path")
        }
        guard !isDirectory.boolValue,
            let data = FileManager.default.contents(atPath: fullPath)
        else {
            throw PlanError(
                .path(path), "cannot read the repositories file; give a text file with one repository per line")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PlanError(.path(path), "the repositories file is not UTF-8 text; save it as UTF-8")
        }
        let directory = (fullPath as NSString).deletingLastPathComponent
        var repos: [Located<RepositoryReference>] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            if line.isEmpty || line.hasPrefix("#") { continue }
            let location = PlanLocation.file(path: path, line: index + 1, column: 1)
            if line.contains(where: { $0.isWhitespace }) {
                throw PlanError(
                    location,
                    "\"\(RepositoryReference.redacted(line))\" holds a space; give one repository per line")
            }
            let reference =
                switch RepositoryReference(line) {
                case .local(let given): RepositoryReference.local(path: absolute(given, against: directory))
                case .remote: RepositoryReference(line)
                }
            repos.append(Located(reference, at: location))
        }
        guard !repos.isEmpty else {
            throw PlanError(.path(path), "the repositories file lists no repository; add one URL or path per line")
        }
        return repos
    }
}

import Clibgit2

extension Repository {
    /// A string value of the configuration this repository sees (its own, the user's, the
    /// system's); nil when unset or empty.
    public func configString(_ key: String) throws -> String? {
        let config = try make("git_repository_config_snapshot") { git_repository_config_snapshot(&$0, pointer) }
        defer { git_config_free(config) }
        var text: UnsafePointer<CChar>?
        let result = git_config_get_string(&text, config, key)
        if result == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try GitError.check(result, "git_config_get_string")
        guard let text else { return nil }
        let value = String(cString: text)
        return value.isEmpty ? nil : value
    }
}

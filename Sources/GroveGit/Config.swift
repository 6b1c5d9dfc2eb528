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

    /// A boolean value of the configuration this repository sees, read as git reads one
    /// (`true`/`yes`/`on`/`1`, `false`/`no`/`off`/`0`); nil when unset.
    public func configBool(_ key: String) throws -> Bool? {
        let config = try make("git_repository_config_snapshot") { git_repository_config_snapshot(&$0, pointer) }
        defer { git_config_free(config) }
        var value: Int32 = 0
        let result = git_config_get_bool(&value, config, key)
        if result == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try GitError.check(result, "git_config_get_bool")
        return value != 0
    }
}

import Clibgit2

extension Repository {
    /// Sends every object written through this handle to memory instead of the object database:
    /// rebases and merges done with it afterwards change nothing on disk, and what they wrote is
    /// gone when the handle is freed. Reads still find every object on disk. Use it only on a
    /// handle opened for that purpose (it cannot be undone), e.g. to predict what a merge queue
    /// will meet without writing anything.
    public func keepNewObjectsInMemory() throws {
        var backend: UnsafeMutablePointer<git_odb_backend>?
        try GitError.check(git_mempack_new(&backend), "git_mempack_new")
        guard let backend else {
            throw GitError(function: "git_mempack_new", code: -1, errorClass: GIT_ERROR_ODB, message: "no backend")
        }
        let database = try make("git_repository_odb") { git_repository_odb(&$0, pointer) }
        defer { git_odb_free(database) }
        // The highest priority: writes go to the first backend that can write, and reads look
        // there first, then fall through to the pack and loose backends. On success the object
        // database owns the backend and frees it with itself.
        let result = git_odb_add_backend(database, backend, 999)
        if result < 0 {
            let error = GitError.last("git_odb_add_backend", code: result)
            backend.pointee.free?(backend)
            throw error
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif

/// Reading an open directory's entries without resolving its path again.
enum DirectoryEntries {
    /// The names and `d_type`s in the open directory `descriptor` (not consumed), without `.`
    /// and `..`; nil (with `errno` set) when it cannot be read to the end.
    static func read(_ descriptor: Int32) -> [(name: String, type: UInt8)]? {
        let copy = dup(descriptor)
        guard copy >= 0 else { return nil }
        guard let stream = fdopendir(copy) else {
            let code = errno
            close(copy)
            errno = code
            return nil
        }
        defer { closedir(stream) }
        var entries: [(name: String, type: UInt8)] = []
        errno = 0
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { entries.append((name, entry.pointee.d_type)) }
        }
        return errno == 0 ? entries : nil
    }
}

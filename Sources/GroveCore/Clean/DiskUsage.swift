import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Space a directory tree takes on disk, as `du -s` counts it: allocated blocks, symbolic links
/// not followed, a file with several hard links inside the tree counted once. It walks with
/// `openat`/`fstatat` relative to open directories, so a deep tree costs no path building and
/// a directory swapped for a symbolic link during the walk is not followed.
enum DiskUsage {
    /// Bytes under `path` (itself included); 0 when it cannot be read.
    static func bytes(at path: String) -> Int64 {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        let total = Int64(info.st_blocks) * 512
        guard info.st_mode & S_IFMT == S_IFDIR else { return total }
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return total }
        var seen = Set<Inode>()
        return total + directoryBytes(descriptor, seen: &seen)
    }

    private struct Inode: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// The entries of the open directory `descriptor`, recursively; takes ownership of it.
    private static func directoryBytes(_ descriptor: Int32, seen: inout Set<Inode>) -> Int64 {
        guard let directory = fdopendir(descriptor) else {
            close(descriptor)
            return 0
        }
        defer { closedir(directory) }
        var total: Int64 = 0
        while let entry = readdir(directory) {
            var info = stat()
            var child: Int32 = -1
            let counted = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { name -> Bool in
                    // "." and ".."
                    if name[0] == 46 && (name[1] == 0 || name[1] == 46 && name[2] == 0) { return false }
                    guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return false }
                    if info.st_mode & S_IFMT == S_IFDIR {
                        child = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    }
                    return true
                }
            }
            guard counted else { continue }
            if info.st_mode & S_IFMT != S_IFDIR && info.st_nlink > 1 {
                let key = Inode(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
                guard seen.insert(key).inserted else { continue }
            }
            total += Int64(info.st_blocks) * 512
            if child >= 0 { total += directoryBytes(child, seen: &seen) }
        }
        return total
    }
}

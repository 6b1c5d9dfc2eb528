import Clibgit2
import Foundation
import Synchronization

/// The contents of blobs a fresh checkout wrote, kept for the next checkouts of this process.
///
/// grove's tasks usually start from one commit: sixteen worktrees of a 15,000-file tree read the
/// same 15,000 blobs sixteen times. From the pack, each read inflates the blob under libgit2's
/// per-pack lock, which two checkouts on two threads take turns on (measured: -j 2 gave 1.3× the
/// speed of -j 1, where separate `git` processes give 1.7×). Blobs are named by their contents,
/// so one read serves every later checkout, of any repository.
///
/// Bounded: entries up to `entryLimit` bytes, `totalLimit` bytes in all; once full, it keeps
/// what it has and later blobs are read from their pack as before.
final class BlobCache: Sendable {
    static let shared = BlobCache(totalLimit: 48 << 20, entryLimit: 1 << 20)

    private struct State {
        var blobs: [Key: [UInt8]] = [:]
        var bytes = 0
    }

    /// A `git_oid`'s 20 bytes, hashable.
    private struct Key: Hashable {
        let high: UInt64
        let middle: UInt64
        let low: UInt32

        init(_ id: git_oid) {
            var id = id
            (high, middle, low) = withUnsafeBytes(of: &id.id) { raw in
                (
                    raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                    raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self)
                )
            }
        }
    }

    private let state = Mutex(State())
    let totalLimit: Int
    let entryLimit: Int

    init(totalLimit: Int, entryLimit: Int) {
        self.totalLimit = totalLimit
        self.entryLimit = entryLimit
    }

    /// Calls `body` with the blob's bytes: from the cache, or read from `repository` (and kept
    /// when it fits).
    func withContents<T>(
        of id: UnsafePointer<git_oid>, in repository: OpaquePointer, _ body: (UnsafeRawBufferPointer) throws -> T
    ) throws -> T {
        let key = Key(id.pointee)
        if let cached = state.withLock({ $0.blobs[key] }) {
            return try cached.withUnsafeBytes(body)
        }
        let blob = try make("git_blob_lookup") { git_blob_lookup(&$0, repository, id) }
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        let contents = UnsafeRawBufferPointer(start: git_blob_rawcontent(blob), count: size)
        if size <= entryLimit {
            let copy = [UInt8](contents)
            state.withLock { state in
                guard state.bytes + size <= totalLimit, state.blobs[key] == nil else { return }
                state.blobs[key] = copy
                state.bytes += size
            }
        }
        return try body(contents)
    }
}

import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Ends every task process group grove leaves behind when grove dies without ending them itself
/// (SIGKILL, a crash, the OOM killer): task groups live in their own sessions, so nothing else would.
///
/// One small `/bin/sh` per grove process, started with the first task, in its own session (a
/// Ctrl-C on the terminal does not reach it), holding one end of a socket pair whose other end only
/// grove holds (close-on-exec, so no task inherits it). grove tells it, line by line, which groups
/// exist: `s` before a spawn, `+<pgid>` right after, `-<pgid>` once the group is gone. When grove
/// dies the kernel closes grove's end; the watchdog reads end-of-file and sends SIGKILL to every
/// group still listed. A spawn grove died in the middle of (`s` without its `+`) is found by the
/// marker variable every task carries, `_GROVE_WATCHDOG=<token>`: the watchdog kills each process
/// whose environment holds it, and its group. When grove exits normally every group is already gone,
/// the list is empty and the watchdog just exits.
///
/// Why this and not `PR_SET_PDEATHSIG`: swift-subprocess 1.0.2 offers no pre-exec hook on Linux;
/// the signal would reach only the direct child, not its group; and it fires when the *thread* that
/// forked ends, which on a pool thread can be long before grove does.
final class GroupWatchdog: Sendable {
    /// The watchdog of this process, started on first use; nil when it could not be started (the
    /// tasks then run unguarded, as before).
    static let shared: GroupWatchdog? = GroupWatchdog()

    /// The variable every task process gets, naming this watchdog.
    static let variable = "_GROVE_WATCHDOG"

    /// A value no other grove's tasks carry.
    let token: String
    /// grove's end of the socket pair; writes are serialised so lines never interleave.
    private let socket: Mutex<Int32>

    /// The watchdog's program. `$1` is the token.
    static let script = #"""
        trap '' INT HUP QUIT PIPE
        groups=' '
        pending=0
        while IFS= read -r line; do
          case $line in
            s) pending=$((pending + 1)) ;;
            f) pending=$((pending - 1)) ;;
            +*) pending=$((pending - 1)); groups="$groups${line#+} " ;;
            -*) p=" ${line#-} "
                case $groups in *"$p"*) groups="${groups%%"$p"*} ${groups#*"$p"}" ;; esac ;;
          esac
        done
        for p in $groups; do kill -KILL "-$p" 2>/dev/null; done
        if [ "$pending" -gt 0 ]; then
          for f in $(grep -lzx "_GROVE_WATCHDOG=$1" /proc/[0-9]*/environ 2>/dev/null); do
            p=${f#/proc/}; p=${p%/environ}
            kill -KILL "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null
          done
        fi
        """#

    private init?() {
        var ends: [Int32] = [-1, -1]
        #if os(Linux)
            let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
            let type = SOCK_STREAM
        #endif
        guard socketpair(AF_UNIX, type, 0, &ends) == 0 else { return nil }
        #if !os(Linux)
            _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        #endif
        var random = SystemRandomNumberGenerator()
        let token = String(random.next(), radix: 16) + String(random.next(), radix: 16)
        guard Self.spawn(input: ends[1], token: token) != nil else {
            close(ends[0])
            close(ends[1])
            return nil
        }
        close(ends[1])
        self.token = token
        self.socket = Mutex(ends[0])
    }

    /// A task process is about to be spawned.
    func spawning() { send("s") }

    /// The spawn announced by `spawning` failed: there is no group to watch.
    func spawnFailed() { send("f") }

    /// The spawn announced by `spawning` made group `groupID`.
    func watch(_ groupID: pid_t) { send("+\(groupID)") }

    /// Group `groupID` is gone: forget it (its number may be reused).
    func release(_ groupID: pid_t) { send("-\(groupID)") }

    private func send(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        socket.withLock { fd in
            guard fd >= 0 else { return }
            var offset = 0
            while offset < bytes.count {
                #if os(Linux)
                    let flags = Int32(MSG_NOSIGNAL)
                #else
                    let flags: Int32 = 0
                #endif
                let sent = bytes.withUnsafeBytes { buffer in
                    sendBytes(fd, buffer.baseAddress.map { $0 + offset }, bytes.count - offset, flags)
                }
                if sent > 0 {
                    offset += sent
                } else if sent < 0 && errno == EINTR {
                    continue
                } else {
                    // The watchdog is gone (someone killed it): nothing to tell any more.
                    close(fd)
                    fd = -1
                    return
                }
            }
        }
    }

    /// Starts `/bin/sh -c script watchdog token` in its own session, reading `input`, writing nowhere,
    /// with no other descriptor of grove's, default signal handling and an empty signal mask.
    private static func spawn(input: Int32, token: String) -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        guard posix_spawn_file_actions_init(&actions) == 0 else { return nil }
        defer { posix_spawn_file_actions_destroy(&actions) }
        guard posix_spawnattr_init(&attributes) == 0 else { return nil }
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawn_file_actions_adddup2(&actions, input, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        #if os(Linux)
            // glibc ≥ 2.34; Swift's Glibc module does not import it (it is a GNU extension).
            if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
                typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
                _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
            }
        #endif
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        #if os(Linux)
            let setsid: Int32 = 0x80  // POSIX_SPAWN_SETSID (glibc ≥ 2.26), a GNU extension Swift does not import
            let flags = setsid | Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETSIGDEF)
        #else
            let flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP
        #endif
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let arguments = ["/bin/sh", "-c", script, "grove-watchdog", token]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &argv, environ)
        return result == 0 ? pid : nil
    }
}

/// `send(2)`, under a name the watchdog's own `send` does not hide.
private func sendBytes(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    send(fd, bytes, count, flags)
}

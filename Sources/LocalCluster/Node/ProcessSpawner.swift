import Foundation
import Glibc

/// Starts container processes with `posix_spawn`: in a process group of their own (so a stop signals the
/// whole tree), with default signal dispositions, and with standard output and error on one pipe.
enum ProcessSpawner {
    /// A started process and the read end of its output pipe, which the caller owns and closes.
    struct Spawned {
        var pid: pid_t
        var output: Int32
    }

    /// Why a process could not start; the node reports it as the container's `StartError`.
    struct SpawnError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Starts `argv` with exactly `environment`, in `workingDirectory` when one is given (through `/bin/sh`,
    /// as glibc's spawn-time chdir is not visible to Swift here), else in the cluster's own directory.
    static func spawn(argv: [String], environment: [String: String], workingDirectory: String?) throws(SpawnError)
        -> Spawned
    {
        var argv = argv
        if let workingDirectory {
            argv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", workingDirectory] + argv
        }
        guard let executable = argv.first else { throw SpawnError(message: "the container has no command") }
        markInheritedDescriptorsCloseOnExec()
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SpawnError(message: "pipe failed: errno \(errno)") }
        // Close-on-exec keeps other children from inheriting the pipe (and holding it open); the spawn's dup2
        // clears the flag on the child's own 1 and 2.
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let arguments = argv.map { strdup($0) }
        let variables = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") }
        defer {
            arguments.forEach { free($0) }
            variables.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = (arguments + [nil]).withUnsafeBufferPointer { argvBuffer in
            (variables + [nil]).withUnsafeBufferPointer { envBuffer -> Int32 in
                // Both arrays hold at least their nil terminator, so their buffers always have an address.
                guard let argvPointer = argvBuffer.baseAddress, let envPointer = envBuffer.baseAddress else {
                    return EINVAL
                }
                return executable.contains("/")
                    ? posix_spawn(&pid, executable, &actions, &attributes, argvPointer, envPointer)
                    : posix_spawnp(&pid, executable, &actions, &attributes, argvPointer, envPointer)
            }
        }
        close(fds[1])
        guard result == 0 else {
            close(fds[0])
            throw SpawnError(
                message: "failed to start \(executable): \(String(cString: strerror(result))); "
                    + "check the image's command in the --images map")
        }
        return Spawned(pid: pid, output: fds[0])
    }

    /// Sets close-on-exec on every descriptor above standard error, so a container inherits none of the
    /// cluster's own: not the listening socket (an orphaned container would keep the port bound), not
    /// descriptors the cluster's parent leaked to it (a supervisor waiting on one would wait for the container).
    private static func markInheritedDescriptorsCloseOnExec() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for name in names {
            guard let descriptor = Int32(name), descriptor > 2 else { continue }
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0 && flags & FD_CLOEXEC == 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// Reads `output` until end of file, handing each chunk to `consume`, then closes it.
    static func drain(_ output: Int32, consume: ([UInt8]) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count > 0 {
                consume(Array(buffer[0..<count]))
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        close(output)
    }

    /// Waits for `pid` and returns its exit code, with 128 + N for a process ended by signal N.
    static func wait(_ pid: pid_t) -> (exitCode: Int32, signal: Int32?) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return (255, nil) }
        }
        let signal = status & 0x7f
        if signal == 0 { return ((status >> 8) & 0xff, nil) }
        return (128 + signal, signal)
    }

    /// Sends `signal` to the process group `pid` leads.
    static func signalGroup(_ pid: pid_t, _ signal: Int32) {
        if pid > 0 { kill(-pid, signal) }
    }
}

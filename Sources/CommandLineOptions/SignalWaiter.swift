import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Lets a command's thread wait until it is asked to stop.
///
/// A signal handler may only call async-signal-safe functions, so the handler writes the signal's number
/// to a pipe and the waiting thread reads it: the classic self-pipe.
public enum SignalWaiter {
    /// Installs handlers for SIGINT (Ctrl-C) and SIGTERM, replacing their default action (death) with a
    /// note in the pipe. Call once, early, from the thread that will wait (usually the main thread).
    public static func install() {
        guard signalPipe.read < 0 else { return }
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else { return }
        signalPipe = (descriptors[0], descriptors[1])
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for number in [SIGINT, SIGTERM] {
            signal(number, signalHandler)
            sigaddset(&unblocked, number)
        }
        // A process started from a libdispatch worker (as Foundation's Process does) inherits that thread's
        // mask, in which every signal is blocked; unblocked here, the signals reach this thread.
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
    }

    /// Waits up to `milliseconds` (forever when negative) for SIGINT or SIGTERM.
    ///
    /// - Returns: the signal's name, or nil when the time passed first.
    public static func wait(milliseconds: Int32 = -1) -> String? {
        install()
        var descriptor = pollfd(fd: signalPipe.read, events: Int16(POLLIN), revents: 0)
        var ready: Int32
        repeat {
            ready = poll(&descriptor, 1, milliseconds)
        } while ready < 0 && errno == EINTR
        guard ready > 0 else { return nil }
        var received: UInt8 = 0
        guard read(signalPipe.read, &received, 1) == 1 else { return nil }
        return Int32(received) == SIGINT ? "SIGINT" : "SIGTERM"
    }

    /// Waits for SIGINT or SIGTERM and returns its name.
    public static func waitForTermination() -> String {
        wait() ?? "signal"
    }

    /// Serves until SIGINT or SIGTERM: waits for one, tells `stopping` its name, then runs `stop` (a
    /// server's graceful shutdown) to completion on another thread while this one waits.
    public static func waitThenStop(
        stopping: (String) -> Void = { _ in }, _ stop: @escaping @Sendable () async -> Void
    ) {
        stopping(waitForTermination())
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            await stop()
            done.signal()
        }
        done.wait()
    }
}

/// The pipe, set once by `install()` before the handlers exist, and only read afterwards.
private nonisolated(unsafe) var signalPipe: (read: Int32, write: Int32) = (-1, -1)

/// Writes the signal's number to the pipe; nothing else, as a handler must.
private func signalHandler(_ number: Int32) {
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(signalPipe.write, &byte, 1)
}

import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Blocks a command's main thread until it is asked to stop.
public enum SignalWaiter {
    /// Waits for SIGINT (Ctrl-C) or SIGTERM and returns its name. The signals' default actions are
    /// turned off first, so the command can shut down cleanly instead of being killed.
    public static func waitForTermination() -> String {
        let received = DispatchSemaphore(value: 0)
        // The first signal's name: written on a dispatch thread, read here after the semaphore.
        let first = Mutex<String?>(nil)
        var sources: [any DispatchSourceSignal] = []
        for (number, label) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                first.withLock { name in name = name ?? label }
                received.signal()
            }
            source.resume()
            sources.append(source)
        }
        received.wait()
        sources.forEach { $0.cancel() }
        return first.withLock { $0 } ?? "signal"
    }
}

import Dispatch
import Foundation

extension LocalCluster {
    /// Serves until the process receives SIGINT or SIGTERM, then stops (killing every container process).
    public func runUntilSignalled() async {
        await Self.waitForTerminationSignal()
        await stop()
    }

    /// Returns once SIGINT or SIGTERM arrives. The handlers live here, not in a `main.swift`, so they are not
    /// main-actor isolated when Dispatch calls them on its own queue.
    private static func waitForTerminationSignal() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let queue = DispatchQueue(label: "local-cluster.signals")
            let resumed = SignalLatch(continuation)
            var sources: [DispatchSourceSignal] = []
            for number in [SIGINT, SIGTERM] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { resumed.fire() }
                source.resume()
                sources.append(source)
            }
            resumed.keep(sources)
        }
    }
}

/// Resumes a continuation once, whichever signal comes first, and keeps the signal sources alive until then.
///
/// `@unchecked Sendable`: both fields are only touched on the signal queue (`fire`) or before any source
/// is resumed (`keep` runs right after `resume()`, and signal delivery before it only sets `fired`), guarded
/// by the lock.
private final class SignalLatch: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?
    private var sources: [DispatchSourceSignal] = []

    init(_ continuation: CheckedContinuation<Void, Never>) {
        self.continuation = continuation
    }

    func keep(_ sources: [DispatchSourceSignal]) {
        lock.withLock { self.sources = sources }
    }

    func fire() {
        let continuation = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            defer { self.continuation = nil }
            return self.continuation
        }
        continuation?.resume()
    }
}

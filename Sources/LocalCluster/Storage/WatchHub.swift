import Synchronization

/// Delivers committed changes to watchers and to the in-process controllers, keeping a bounded history so a
/// watch can resume from a recent resource version.
///
/// The object store publishes while it still holds the database lock, so every subscriber sees changes in
/// resource-version order. Subscribers' `deliver` closures run under this hub's lock and must be quick and
/// must not call back into the hub or the store: they enqueue work or yield to a stream, nothing more.
final class WatchHub: Sendable {
    /// The watch asked for a resource version older than the history holds.
    struct Expired: Error {
        /// The version asked for.
        let requested: Int64
        /// The oldest version that can still be replayed.
        let oldest: Int64
    }

    /// A receiver of changes.
    struct Subscriber: Sendable {
        /// Only changes to this resource, or every change when nil.
        let type: ResourceType?
        /// Called once per change, in order, under the hub's lock.
        let deliver: @Sendable (ChangeEvent) -> Void
    }

    private struct State {
        /// The most recent changes, oldest first, at most `capacity` of them.
        var history: [ChangeEvent] = []
        /// Changes at or after this version are in `history` or have not happened yet.
        var oldestReplayable: Int64
        var subscribers: [Int: Subscriber] = [:]
        var nextID = 0
    }

    /// How many changes the history keeps.
    let capacity: Int
    /// The history and the subscribers.
    private let state: Mutex<State>

    /// A hub whose history starts after `currentVersion`, the last version committed before it existed.
    init(currentVersion: Int64, capacity: Int = 10_000) {
        self.capacity = capacity
        self.state = Mutex(State(oldestReplayable: currentVersion + 1))
    }

    /// Records and delivers committed changes.
    func publish(_ events: [ChangeEvent]) {
        guard !events.isEmpty else { return }
        state.withLock { state in
            state.history.append(contentsOf: events)
            if state.history.count > capacity {
                let dropped = state.history.count - capacity
                state.oldestReplayable = state.history[dropped].resourceVersion
                state.history.removeFirst(dropped)
            }
            for event in events {
                for subscriber in state.subscribers.values where subscriber.type == nil || subscriber.type == event.type
                {
                    subscriber.deliver(event)
                }
            }
        }
    }

    /// Registers `subscriber`, first replaying the changes after `resourceVersion` when one is given.
    ///
    /// - Returns: an id for `unsubscribe`.
    /// - Throws: `Expired` when changes after `resourceVersion` have already left the history.
    func subscribe(_ subscriber: Subscriber, after resourceVersion: Int64? = nil) throws(Expired) -> Int {
        try state.withLock { (state) throws(Expired) -> Int in
            if let resourceVersion {
                guard resourceVersion + 1 >= state.oldestReplayable else {
                    throw Expired(requested: resourceVersion, oldest: state.oldestReplayable)
                }
                for event in state.history where event.resourceVersion > resourceVersion {
                    if subscriber.type == nil || subscriber.type == event.type {
                        subscriber.deliver(event)
                    }
                }
            }
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = subscriber
            return id
        }
    }

    /// Stops delivering to the subscriber `id`.
    func unsubscribe(_ id: Int) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: id) }
    }
}

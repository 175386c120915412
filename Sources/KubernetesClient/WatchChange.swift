import Kubernetes

/// One thing a watch reports.
public enum WatchChange<Object: Sendable>: Sendable {
    /// The object was created (or, right after a reconnect, is reported again).
    case added(Object)
    /// The object changed.
    case modified(Object)
    /// The object was deleted; this is its last state.
    case deleted(Object)
    /// Nothing changed, but the collection is now at `resourceVersion`; the watch resumes from there.
    case bookmark(resourceVersion: String)
    /// The server reported an error in the stream other than an expired resource version; the watch
    /// reconnects after a pause.
    case error(Status)
    /// A fresh list of the whole collection: first when the watch started without a resource version, and
    /// again whenever the server said the watch's resource version had expired (410 Gone). Changes missed in
    /// between are not reported one by one; compare with what you held.
    case resynced([Object], resourceVersion: String)
}

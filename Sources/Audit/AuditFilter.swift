import Foundation

/// Which audit records a listing returns.
public struct AuditFilter: Sendable, Equatable {
    /// Only requests received at or after this time.
    public var since: Date?
    /// Only paths matching this: a glob when it holds `*`, `?` or `[`, otherwise a prefix.
    public var path: String?
    /// Only requests answered with this status.
    public var status: Int?
    /// At most this many records: the newest ones, returned oldest first.
    public var limit: Int

    /// A filter; by default the newest 100 records.
    public init(since: Date? = nil, path: String? = nil, status: Int? = nil, limit: Int = 100) {
        self.since = since
        self.path = path
        self.status = status
        self.limit = limit
    }
}

/// How long audit records are kept.
public struct AuditRetention: Sendable, Equatable {
    /// Keep at most this many rows; nil for no bound.
    public var maxRows: Int?
    /// Keep rows received within this long of now; nil for no bound.
    public var maxAge: Duration?

    /// A retention policy; by default everything is kept.
    public init(maxRows: Int? = nil, maxAge: Duration? = nil) {
        self.maxRows = maxRows
        self.maxAge = maxAge
    }
}

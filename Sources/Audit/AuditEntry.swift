import Foundation

/// One request as the audit trail keeps it: who asked, what for, what they were told, and what was read.
///
/// Every text field is present (an empty string when there is nothing to say), so the canonical form that
/// the hash chain covers has no optional parts. Timestamps keep whole milliseconds: that is what is stored,
/// so an entry read back equals the one written once its times are rounded the same way.
public struct AuditEntry: Sendable, Equatable, Codable {
    /// The request id, as logged and returned in `x-request-id`.
    public var requestID: String
    /// When the request arrived.
    public var receivedAt: Date
    /// When its answer was ready to send.
    public var completedAt: Date
    /// The peer, `address:port`.
    public var remoteAddress: String
    /// The HTTP method.
    public var method: String
    /// The path without the query string.
    public var path: String
    /// The raw query string, without the `?`.
    public var query: String
    /// The id of the token that authenticated the request; empty when none did. Never the token itself.
    public var principal: String
    /// The HTTP status answered.
    public var status: Int
    /// The size of the response body.
    public var responseBytes: Int
    /// How long the request took to answer, in microseconds.
    public var durationMicroseconds: Int64
    /// The `User-Agent` header.
    public var userAgent: String
    /// The tier named in the path, when it named a configured one.
    public var tier: String
    /// The namespace read.
    public var namespace: String
    /// The kind read, such as `Job`, `ResourceQuota` or `Pod/log`.
    public var kind: String
    /// The object read; empty for a list.
    public var name: String

    /// An entry from its fields; the timestamps are rounded down to whole milliseconds.
    public init(
        requestID: String, receivedAt: Date, completedAt: Date, remoteAddress: String = "", method: String,
        path: String, query: String = "", principal: String = "", status: Int, responseBytes: Int = 0,
        durationMicroseconds: Int64 = 0, userAgent: String = "", tier: String = "", namespace: String = "",
        kind: String = "", name: String = ""
    ) {
        self.requestID = requestID
        self.receivedAt = Self.wholeMilliseconds(receivedAt)
        self.completedAt = Self.wholeMilliseconds(completedAt)
        self.remoteAddress = remoteAddress
        self.method = method
        self.path = path
        self.query = query
        self.principal = principal
        self.status = status
        self.responseBytes = responseBytes
        self.durationMicroseconds = durationMicroseconds
        self.userAgent = userAgent
        self.tier = tier
        self.namespace = namespace
        self.kind = kind
        self.name = name
    }

    /// `date` as whole milliseconds since 1970, the form stored and hashed.
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    private static func wholeMilliseconds(_ date: Date) -> Date {
        Self.date(milliseconds: milliseconds(date))
    }
}

/// An entry as stored: its row id and its place in the hash chain.
public struct AuditRecord: Sendable, Equatable, Codable {
    /// The row id; ids are consecutive from the chain's anchor.
    public var id: Int64
    /// What was recorded.
    public var entry: AuditEntry
    /// The hash of the row before, or of the anchor for the first row kept.
    public var previousHash: String
    /// `SHA-256(previousHash || canonical form)`, in hexadecimal.
    public var hash: String

    /// A record from its parts.
    public init(id: Int64, entry: AuditEntry, previousHash: String, hash: String) {
        self.id = id
        self.entry = entry
        self.previousHash = previousHash
        self.hash = hash
    }
}

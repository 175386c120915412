import Foundation

/// A Kubernetes timestamp: RFC 3339 in UTC, such as `2026-12-04T07:01:02Z`, with whole seconds on the wire
/// (fractions are accepted when decoding, as `MicroTime` fields carry them).
public struct KubernetesTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The instant.
    public var date: Date

    /// A timestamp at `date`.
    public init(_ date: Date) {
        self.date = date
    }

    /// Now.
    public static var now: KubernetesTime { KubernetesTime(Date()) }

    /// Parses RFC 3339 text, with or without fractional seconds.
    ///
    /// - Throws: `KubernetesError` `.invalidTime` naming the text.
    public init(rfc3339 text: String) throws(KubernetesError) {
        let strategies: [Date.ISO8601FormatStyle] = [
            .iso8601, Date.ISO8601FormatStyle(includingFractionalSeconds: true),
        ]
        for strategy in strategies {
            if let date = try? strategy.parse(text) {
                self.date = date
                return
            }
        }
        throw KubernetesError(.invalidTime, message: "\"\(text)\" is not an RFC 3339 time such as 2026-01-31T12:00:00Z")
    }

    /// The RFC 3339 text, in UTC with whole seconds.
    public var description: String { date.formatted(.iso8601) }

    /// Orders by instant.
    public static func < (lhs: KubernetesTime, rhs: KubernetesTime) -> Bool { lhs.date < rhs.date }

    /// Decodes from RFC 3339 text.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        do {
            try self.init(rfc3339: try container.decode(String.self))
        } catch let error as KubernetesError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    /// Encodes as RFC 3339 text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

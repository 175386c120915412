import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How much an operator needs to see a line.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    /// Internals, for whoever debugs the code.
    case debug
    /// Lifecycle: a request served, a job started or finished.
    case info
    /// Something an operator should look at soon.
    case warning
    /// Something an operator must act on.
    case error

    /// The lower-case name printed in each line and accepted by `init(name:)`.
    public var name: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        }
    }

    /// The level called `name` (`debug`, `info`, `warning`, `error`), or nil.
    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = level
    }

    /// Whether `lhs` is less severe than `rhs`.
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Writes one line per event: a timestamp, the level, the logger's label, a constant message, then
/// `key=value` fields (`2026-12-04T07:01:02.123Z info job: scored dataset=mnist samples=10000`).
///
/// Each line goes out in a single `write(2)`, so lines from concurrent threads never interleave.
public struct Logger: Sendable {
    /// The component that logs, printed before the message.
    public let label: String
    /// Lines below this level are dropped.
    public var level: LogLevel
    /// Fields added to every line, such as a request id.
    public var metadata: [(key: String, value: String)]
    private let fileDescriptor: Int32

    /// Creates a logger.
    ///
    /// - Parameters:
    ///   - label: the component name printed in every line.
    ///   - level: the lowest level written.
    ///   - fileDescriptor: where lines go; standard error unless a program says otherwise.
    public init(label: String, level: LogLevel = .info, fileDescriptor: Int32 = STDERR_FILENO) {
        self.label = label
        self.level = level
        self.metadata = []
        self.fileDescriptor = fileDescriptor
    }

    /// A copy of this logger that adds `key=value` to every line.
    public func with(_ key: String, _ value: CustomStringConvertible) -> Logger {
        var copy = self
        copy.metadata.append((key, value.description))
        return copy
    }

    /// Logs at debug level.
    public func debug(_ message: StaticString, _ fields: KeyValuePairs<String, CustomStringConvertible> = [:]) {
        log(.debug, message, fields)
    }

    /// Logs at info level.
    public func info(_ message: StaticString, _ fields: KeyValuePairs<String, CustomStringConvertible> = [:]) {
        log(.info, message, fields)
    }

    /// Logs at warning level.
    public func warning(_ message: StaticString, _ fields: KeyValuePairs<String, CustomStringConvertible> = [:]) {
        log(.warning, message, fields)
    }

    /// Logs at error level.
    public func error(_ message: StaticString, _ fields: KeyValuePairs<String, CustomStringConvertible> = [:]) {
        log(.error, message, fields)
    }

    /// Logs `message` with `fields` at `level`, if the logger's level lets it through.
    public func log(
        _ level: LogLevel, _ message: StaticString, _ fields: KeyValuePairs<String, CustomStringConvertible> = [:]
    ) {
        guard level >= self.level else { return }
        var line = "\(Self.timestamp()) \(level.name) \(label): \(message)"
        for (key, value) in metadata {
            line += " \(key)=\(Self.quoted(value))"
        }
        for (key, value) in fields {
            line += " \(key)=\(Self.quoted(value.description))"
        }
        line += "\n"
        Array(line.utf8).withUnsafeBytes { buffer in
            guard var cursor = buffer.baseAddress else { return }
            var remaining = buffer.count
            while remaining > 0 {
                let result = write(fileDescriptor, cursor, remaining)
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else { return }
                cursor += result
                remaining -= result
            }
        }
    }

    /// A value as it appears after `key=`: bare when it has no spaces, quotes or equals signs, quoted otherwise.
    static func quoted(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }
        guard needsQuotes else { return value }
        var escaped = "\""
        for character in value {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped + "\""
    }

    private static func timestamp() -> String {
        Date().formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

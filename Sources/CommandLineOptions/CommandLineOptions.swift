/// Why a command line could not be parsed.
public struct CommandLineError: Error, Equatable, CustomStringConvertible {
    /// A sentence naming the option, the value and what was expected.
    public let message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// `--name value` and `--name=value` options and bare flags, parsed against the options a command declares.
///
/// ```swift
/// var options = try CommandLineOptions(arguments, values: ["config", "listen"], repeatable: ["resolve"], flags: ["help"])
/// let config = try options.required("config")
/// ```
public struct CommandLineOptions: Sendable {
    private var values: [String: [String]] = [:]
    private var flagsSeen: Set<String> = []
    /// Arguments that are not options, in order.
    public private(set) var positional: [String] = []

    /// Parses `arguments` (without the program name).
    ///
    /// - Parameters:
    ///   - values: options that take one value and may appear once.
    ///   - repeatable: options that take a value and may appear many times.
    ///   - flags: options that take no value.
    /// - Throws: `CommandLineError` for an unknown option, a missing value or a repeated single option.
    public init(
        _ arguments: [String], values singleValued: Set<String> = [], repeatable: Set<String> = [],
        flags: Set<String> = []
    ) throws(CommandLineError) {
        let known = (singleValued.union(repeatable).map { "--\($0) VALUE" } + flags.map { "--\($0)" }).sorted()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                positional.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if flags.contains(name) {
                guard inlineValue == nil else { throw CommandLineError("--\(name) takes no value") }
                flagsSeen.insert(name)
            } else if singleValued.contains(name) || repeatable.contains(name) {
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else {
                    guard index < arguments.count else { throw CommandLineError("--\(name) needs a value") }
                    value = arguments[index]
                    index += 1
                }
                guard repeatable.contains(name) || values[name] == nil else {
                    throw CommandLineError("--\(name) is given twice; give it once")
                }
                values[name, default: []].append(value)
            } else {
                throw CommandLineError("unknown option --\(name); options: \(known.joined(separator: ", "))")
            }
        }
    }

    /// The value of a single-valued option, or nil.
    public func value(_ name: String) -> String? {
        values[name]?.last
    }

    /// Every value of a repeatable option, in order.
    public func all(_ name: String) -> [String] {
        values[name] ?? []
    }

    /// Whether a flag was given.
    public func flag(_ name: String) -> Bool {
        flagsSeen.contains(name)
    }

    /// The value of an option that must be given.
    public func required(_ name: String) throws(CommandLineError) -> String {
        guard let value = value(name) else { throw CommandLineError("--\(name) is required") }
        return value
    }

    /// The value of an option parsed as an integer in `range`, or `defaultValue` when absent.
    public func integer(_ name: String, in range: ClosedRange<Int>, default defaultValue: Int) throws(CommandLineError)
        -> Int
    {
        guard let text = value(name) else { return defaultValue }
        guard let number = Int(text), range.contains(number) else {
            throw CommandLineError("--\(name)=\(text) is not an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }
}

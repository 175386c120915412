import CYAML

/// Parses YAML text into `YAMLValue`s with libyaml's event parser.
///
/// ```swift
/// let documents = try YAMLParser.parseDocuments(manifest)   // one value per `---` document
/// ```
public enum YAMLParser {
    /// The deepest nesting accepted; a guard against stack exhaustion on hostile input.
    public static let maximumDepth = 256

    /// Every document in `text`, in order. An empty document (`---` with nothing after it) is `.null`.
    ///
    /// - Throws: `YAMLError` naming the line and column of the first problem.
    public static func parseDocuments(_ text: String) throws(YAMLError) -> [YAMLValue] {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { (buffer) throws(YAMLError) -> [YAMLValue] in
            let events = try EventReader(input: buffer)
            var builder = TreeBuilder(events: events)
            return try builder.documents()
        }
    }

    /// The single document in `text`.
    ///
    /// - Throws: `YAMLError` `.documentCount` when there is not exactly one, or a parse error.
    public static func parseDocument(_ text: String) throws(YAMLError) -> YAMLValue {
        let documents = try parseDocuments(text)
        guard documents.count == 1, let document = documents.first else {
            throw YAMLError(.documentCount, message: "expected one YAML document, found \(documents.count)")
        }
        return document
    }
}

/// A parser event copied out of libyaml's structure, so the C event can be freed at once.
enum Event {
    case streamStart
    case streamEnd
    case documentStart
    case documentEnd
    case alias(anchor: String)
    case scalar(value: String, anchor: String?, tag: String?, plain: Bool)
    case sequenceStart(anchor: String?, tag: String?)
    case sequenceEnd
    case mappingStart(anchor: String?, tag: String?)
    case mappingEnd
}

/// Owns a `yaml_parser_t` reading from a buffer and hands out its events one at a time.
///
/// The parser lives in allocated memory because libyaml keeps a pointer to it (its string reader's user
/// data is the parser itself), so it must never move. The input buffer must outlive the reader.
final class EventReader {
    private let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
    /// Where the last event started, 1-based.
    private(set) var line = 0
    private(set) var column = 0

    init(input: UnsafeBufferPointer<UInt8>) throws(YAMLError) {
        guard yaml_parser_initialize(parser) == 1 else {
            parser.deallocate()
            throw YAMLError(.outOfMemory, message: "libyaml could not initialize a parser")
        }
        if let base = input.baseAddress {
            yaml_parser_set_input_string(parser, base, input.count)
        } else {
            var empty: UInt8 = 0
            yaml_parser_set_input_string(parser, &empty, 0)
        }
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
    }

    func next() throws(YAMLError) -> Event {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { throw parserError() }
        defer { yaml_event_delete(&event) }
        line = event.start_mark.line + 1
        column = event.start_mark.column + 1
        switch event.type {
        case YAML_STREAM_START_EVENT:
            return .streamStart
        case YAML_STREAM_END_EVENT:
            return .streamEnd
        case YAML_DOCUMENT_START_EVENT:
            return .documentStart
        case YAML_DOCUMENT_END_EVENT:
            return .documentEnd
        case YAML_ALIAS_EVENT:
            return .alias(anchor: Self.text(event.data.alias.anchor) ?? "")
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let value = scalar.value.map {
                String(decoding: UnsafeBufferPointer(start: $0, count: scalar.length), as: UTF8.self)
            }
            return .scalar(
                value: value ?? "", anchor: Self.text(scalar.anchor), tag: Self.text(scalar.tag),
                plain: scalar.style == YAML_PLAIN_SCALAR_STYLE)
        case YAML_SEQUENCE_START_EVENT:
            let start = event.data.sequence_start
            return .sequenceStart(anchor: Self.text(start.anchor), tag: Self.text(start.tag))
        case YAML_SEQUENCE_END_EVENT:
            return .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            let start = event.data.mapping_start
            return .mappingStart(anchor: Self.text(start.anchor), tag: Self.text(start.tag))
        case YAML_MAPPING_END_EVENT:
            return .mappingEnd
        default:
            throw YAMLError(.syntax, line: line, column: column, message: "libyaml produced an unknown event")
        }
    }

    func error(_ code: YAMLError.Code, _ message: String) -> YAMLError {
        YAMLError(code, line: line, column: column, message: message)
    }

    /// The parser's error, classified by its error type; libyaml's problem text is only context.
    private func parserError() -> YAMLError {
        let state = parser.pointee
        let code: YAMLError.Code = state.error == YAML_MEMORY_ERROR ? .outOfMemory : .syntax
        var message = state.problem.map { String(cString: $0) } ?? "invalid YAML"
        if let context = state.context.map({ String(cString: $0) }) {
            message += " (\(context) at line \(state.context_mark.line + 1), column \(state.context_mark.column + 1))"
        }
        return YAMLError(
            code, line: state.problem_mark.line + 1, column: state.problem_mark.column + 1, message: message)
    }

    private static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}

/// Turns the event sequence into values, resolving anchors, aliases and merge keys (`<<`).
struct TreeBuilder {
    let events: EventReader
    /// Anchored values of the current document; anchors do not cross documents.
    private var anchors: [String: YAMLValue] = [:]

    init(events: EventReader) {
        self.events = events
    }

    mutating func documents() throws(YAMLError) -> [YAMLValue] {
        guard case .streamStart = try events.next() else {
            throw events.error(.syntax, "the stream does not start as a YAML stream")
        }
        var documents: [YAMLValue] = []
        while true {
            switch try events.next() {
            case .streamEnd:
                return documents
            case .documentStart:
                anchors = [:]
                let root = try node(from: try events.next(), depth: 0)
                guard case .documentEnd = try events.next() else {
                    throw events.error(.syntax, "expected the end of the document")
                }
                documents.append(root)
            default:
                throw events.error(.syntax, "expected a document")
            }
        }
    }

    private mutating func node(from event: Event, depth: Int) throws(YAMLError) -> YAMLValue {
        guard depth < YAMLParser.maximumDepth else {
            throw events.error(.tooDeep, "nesting is deeper than \(YAMLParser.maximumDepth) levels")
        }
        switch event {
        case .alias(let anchor):
            guard let value = anchors[anchor] else {
                throw events.error(.undefinedAlias, "alias *\(anchor) refers to no anchor defined before it")
            }
            return value
        case .scalar(let text, let anchor, let tag, let plain):
            let value = try ScalarResolver.resolve(text, tag: tag, plain: plain, at: events)
            if let anchor { anchors[anchor] = value }
            return value
        case .sequenceStart(let anchor, _):
            var items: [YAMLValue] = []
            while true {
                let next = try events.next()
                if case .sequenceEnd = next { break }
                items.append(try node(from: next, depth: depth + 1))
            }
            if let anchor { anchors[anchor] = .sequence(items) }
            return .sequence(items)
        case .mappingStart(let anchor, _):
            let value = YAMLValue.mapping(try mappingEntries(depth: depth))
            if let anchor { anchors[anchor] = value }
            return value
        default:
            throw events.error(.syntax, "expected a value")
        }
    }

    private mutating func mappingEntries(depth: Int) throws(YAMLError) -> [YAMLValue.Entry] {
        var entries: [YAMLValue.Entry] = []
        var merged: [YAMLValue.Entry] = []
        while true {
            // 1. The key: a scalar (or an alias to one), kept as written.
            let keyEvent = try events.next()
            let key: String
            var isMerge = false
            switch keyEvent {
            case .mappingEnd:
                // Explicit keys win over merged ones; merged ones fill in what is missing, in order.
                for entry in merged where !entries.contains(where: { $0.key == entry.key }) {
                    entries.append(entry)
                }
                return entries
            case .scalar(let text, _, _, let plain):
                key = text
                isMerge = plain && text == "<<"
            case .alias(let anchor):
                guard case .string(let text)? = anchors[anchor] else {
                    throw events.error(.complexKey, "alias *\(anchor) used as a key is not a string")
                }
                key = text
            default:
                throw events.error(.complexKey, "a mapping key must be a scalar to be representable in JSON")
            }
            let keyLine = events.line
            let keyColumn = events.column

            // 2. The value; a merge key's value is one mapping or a sequence of them.
            let value = try node(from: try events.next(), depth: depth + 1)
            if isMerge {
                merged += try mergeSources(value)
                continue
            }
            guard !entries.contains(where: { $0.key == key }) else {
                throw YAMLError(
                    .duplicateKey, line: keyLine, column: keyColumn,
                    message: "key \(key) appears twice in the same mapping; remove one")
            }
            entries.append(YAMLValue.Entry(key: key, value: value))
        }
    }

    private func mergeSources(_ value: YAMLValue) throws(YAMLError) -> [YAMLValue.Entry] {
        switch value {
        case .mapping(let entries):
            return entries
        case .sequence(let items):
            var collected: [YAMLValue.Entry] = []
            for case .mapping(let entries) in items {
                collected += entries.filter { entry in !collected.contains { $0.key == entry.key } }
            }
            return collected
        default:
            throw events.error(.syntax, "a merge key (<<) needs a mapping or a sequence of mappings")
        }
    }
}

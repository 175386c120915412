/// Gives a scalar its type: YAML 1.1 resolution for untagged plain scalars, the tag's type for tagged ones,
/// and a string for everything quoted or in block style.
enum ScalarResolver {
    private static let tagPrefix = "tag:yaml.org,2002:"

    static func resolve(_ text: String, tag: String?, plain: Bool, at events: EventReader) throws(YAMLError)
        -> YAMLValue
    {
        switch tag {
        case nil where plain, "?":
            return implicit(text)
        case nil, "!", tagPrefix + "str":
            return .string(text)
        case tagPrefix + "null":
            return .null
        case tagPrefix + "bool":
            guard let value = bool(text) else { throw mismatch(text, tag: "bool", events) }
            return .bool(value)
        case tagPrefix + "int":
            guard let value = int(text) else { throw mismatch(text, tag: "int", events) }
            return .int(value)
        case tagPrefix + "float":
            guard let value = double(text) ?? int(text).map(Double.init) else {
                throw mismatch(text, tag: "float", events)
            }
            return .double(value)
        default:
            // Application tags (`!Ref`, `!!binary`) carry meaning this stack does not use; keep the text.
            return .string(text)
        }
    }

    /// YAML 1.1 resolution of an untagged plain scalar: null, bool, int, float, else string.
    static func implicit(_ text: String) -> YAMLValue {
        if ["", "~", "null", "Null", "NULL"].contains(text) { return .null }
        if let value = bool(text) { return .bool(value) }
        if let value = int(text) { return .int(value) }
        if let value = double(text) { return .double(value) }
        return .string(text)
    }

    static func bool(_ text: String) -> Bool? {
        switch text {
        case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON": true
        case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF": false
        default: nil
        }
    }

    static func int(_ text: String) -> Int64? {
        // 1. Sign, then underscores (digit separators in 1.1) dropped.
        var body = Substring(text)
        var negative = false
        if let first = body.first, first == "-" || first == "+" {
            negative = first == "-"
            body = body.dropFirst()
        }
        guard let first = body.first, first.isASCII, first.isNumber else { return nil }
        let digits = body.filter { $0 != "_" }
        // Swift's integer parsing takes a sign, which YAML allows only before the prefix.
        guard !digits.contains("-") && !digits.contains("+") else { return nil }

        // 2. The radix from the prefix; sexagesimal (`1:30` is 90) last.
        let magnitude: Int64?
        if digits.hasPrefix("0x") {
            magnitude = Int64(digits.dropFirst(2), radix: 16)
        } else if digits.hasPrefix("0b") {
            magnitude = Int64(digits.dropFirst(2), radix: 2)
        } else if digits.count > 1 && digits.hasPrefix("0") {
            magnitude = Int64(digits.dropFirst(), radix: 8)
        } else if digits.contains(":") {
            magnitude = sexagesimal(digits)
        } else {
            magnitude = digits.allSatisfy(\.isASCII) ? Int64(digits, radix: 10) : nil
        }
        guard let magnitude else { return nil }
        return negative ? -magnitude : magnitude
    }

    static func double(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        // 1.1 floats need a digit or a dot up front and at least one dot or exponent; `1e3` is accepted too,
        // as JSON-minded writers expect.
        guard text.wholeMatch(of: #/[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?/#) != nil,
            text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
        else { return nil }
        return Double(text.filter { $0 != "_" })
    }

    /// Base-60 digits such as `1:30:00`; every group after the first is 0...59.
    private static func sexagesimal(_ digits: String) -> Int64? {
        let groups = digits.split(separator: ":", omittingEmptySubsequences: false)
        var total: Int64 = 0
        for (index, group) in groups.enumerated() {
            guard let value = Int64(group), value >= 0, index == 0 || value < 60 else { return nil }
            let (shifted, overflow) = total.multipliedReportingOverflow(by: 60)
            guard !overflow else { return nil }
            total = shifted + value
        }
        return total
    }

    private static func mismatch(_ text: String, tag: String, _ events: EventReader) -> YAMLError {
        events.error(.invalidTaggedValue, "\"\(text)\" is tagged !!\(tag) but is not a valid \(tag)")
    }
}

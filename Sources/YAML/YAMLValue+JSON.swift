import Foundation

extension YAMLValue {
    /// This value as JSON text, keys in document order.
    ///
    /// - Throws: `YAMLError` `.notRepresentableInJSON` for `.inf` and `.nan`, which JSON has no form for.
    public func jsonData() throws(YAMLError) -> Data {
        var output = ""
        try write(to: &output)
        return Data(output.utf8)
    }

    private func write(to output: inout String) throws(YAMLError) {
        switch self {
        case .mapping(let entries):
            output += "{"
            for (index, entry) in entries.enumerated() {
                if index > 0 { output += "," }
                Self.writeString(entry.key, to: &output)
                output += ":"
                try entry.value.write(to: &output)
            }
            output += "}"
        case .sequence(let items):
            output += "["
            for (index, item) in items.enumerated() {
                if index > 0 { output += "," }
                try item.write(to: &output)
            }
            output += "]"
        case .string(let text):
            Self.writeString(text, to: &output)
        case .int(let value):
            output += String(value)
        case .double(let value):
            guard value.isFinite else {
                throw YAMLError(.notRepresentableInJSON, message: "\(value) has no JSON representation")
            }
            // Swift prints the shortest form that reads back exactly, and always with a dot or exponent.
            output += "\(value)"
        case .bool(let value):
            output += value ? "true" : "false"
        case .null:
            output += "null"
        }
    }

    private static func writeString(_ text: String, to output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                output +=
                    "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}

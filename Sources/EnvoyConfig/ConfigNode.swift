import YAML

/// A YAML node with the path that leads to it, so every error can name the field it is about.
struct ConfigNode {
    let value: YAMLValue
    let path: String

    /// The mapping's entries, refusing any key not in `known`; `known` keys are accepted even when the
    /// gateway ignores them (documentation-only fields such as `stat_prefix`).
    func fields(known: Set<String>) throws(EnvoyConfigError) -> [String: ConfigNode] {
        guard case .mapping(let entries) = value else {
            throw EnvoyConfigError(.invalid, field: path, "expected a mapping")
        }
        var result: [String: ConfigNode] = [:]
        for entry in entries {
            let childPath = path.isEmpty ? entry.key : "\(path).\(entry.key)"
            guard known.contains(entry.key) else {
                let accepted = known.sorted().joined(separator: ", ")
                throw EnvoyConfigError(.unsupported, field: childPath, "fields accepted here: \(accepted)")
            }
            result[entry.key] = ConfigNode(value: entry.value, path: childPath)
        }
        return result
    }

    func items() throws(EnvoyConfigError) -> [ConfigNode] {
        guard case .sequence(let items) = value else {
            throw EnvoyConfigError(.invalid, field: path, "expected a list")
        }
        return items.enumerated().map { ConfigNode(value: $1, path: "\(path)[\($0)]") }
    }

    func string() throws(EnvoyConfigError) -> String {
        guard case .string(let text) = value else { throw EnvoyConfigError(.invalid, field: path, "expected a string") }
        return text
    }

    func integer(in range: ClosedRange<Int>) throws(EnvoyConfigError) -> Int {
        guard case .int(let number) = value, range.contains(Int(number)) else {
            throw EnvoyConfigError(
                .invalid, field: path, "expected an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return Int(number)
    }

    func bool() throws(EnvoyConfigError) -> Bool {
        guard case .bool(let flag) = value else {
            throw EnvoyConfigError(.invalid, field: path, "expected true or false")
        }
        return flag
    }

    /// A protobuf JSON duration such as `15s` or `0.25s`.
    func duration() throws(EnvoyConfigError) -> Duration {
        let text = try string()
        guard text.hasSuffix("s"), let seconds = Double(text.dropLast()), seconds >= 0, seconds.isFinite else {
            throw EnvoyConfigError(.invalid, field: path, "expected a duration in seconds such as \"15s\" or \"0.5s\"")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// A string that must be one of `allowed`.
    func choice(_ allowed: [String]) throws(EnvoyConfigError) -> String {
        let text = try string()
        guard allowed.contains(text) else {
            throw EnvoyConfigError(
                .unsupported, field: path, "\"\(text)\" is not handled; accepted: \(allowed.joined(separator: ", "))")
        }
        return text
    }
}

extension Optional where Wrapped == ConfigNode {
    /// The node, or an error naming the missing field `name` under `parent`.
    func required(_ name: String, in parent: ConfigNode) throws(EnvoyConfigError) -> ConfigNode {
        guard let self else {
            throw EnvoyConfigError(
                .invalid, field: parent.path.isEmpty ? name : "\(parent.path).\(name)", "is required")
        }
        return self
    }
}

import Foundation
import Kubernetes

/// A parsed `?labelSelector=`: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-joined.
struct LabelSelectorQuery: Sendable, Equatable {
    /// One requirement.
    enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
    }

    let requirements: [Requirement]

    /// Parses `text`; an empty text selects everything.
    ///
    /// - Throws: `Status` BadRequest naming the part that does not parse.
    init(_ text: String) throws(Status) {
        var requirements: [Requirement] = []
        for part in Self.splitTopLevel(text) {
            let item = part.trimmingCharacters(in: .whitespaces)
            if item.isEmpty { continue }
            if let range = item.range(of: " notin ") ?? item.range(of: " in ") {
                let key = item[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let rest = item[range.upperBound...].trimmingCharacters(in: .whitespaces)
                guard rest.hasPrefix("("), rest.hasSuffix(")") else {
                    throw Status.badRequest("unable to parse requirement: \(item): found '\(rest)', expected: '('")
                }
                let values = Set(
                    rest.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                requirements.append(
                    item[range].contains("notin") ? .notIn(key, values) : .isIn(key, values))
            } else if let range = item.range(of: "!=") {
                requirements.append(.notEquals(trim(item[..<range.lowerBound]), trim(item[range.upperBound...])))
            } else if let range = item.range(of: "==") ?? item.range(of: "=") {
                requirements.append(.equals(trim(item[..<range.lowerBound]), trim(item[range.upperBound...])))
            } else if item.hasPrefix("!") {
                requirements.append(.doesNotExist(trim(item.dropFirst())))
            } else {
                requirements.append(.exists(item))
            }
        }
        self.requirements = requirements
    }

    /// True when `labels` meet every requirement.
    func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): return labels[key] == value
            case .notEquals(let key, let value): return labels[key] != value
            case .isIn(let key, let values): return labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): return labels[key].map { !values.contains($0) } ?? true
            case .exists(let key): return labels[key] != nil
            case .doesNotExist(let key): return labels[key] == nil
            }
        }
    }

    /// Splits on commas outside parentheses.
    private static func splitTopLevel(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "(": depth += 1
            case ")": depth -= 1
            case "," where depth == 0:
                parts.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        parts.append(current)
        return parts
    }
}

/// A parsed `?fieldSelector=`: `path=value`, `path==value`, `path!=value`, comma-joined, where the path is a
/// dotted field path into the object (`metadata.name`, `involvedObject.name`, `status.phase`).
struct FieldSelectorQuery: Sendable, Equatable {
    struct Requirement: Sendable, Equatable {
        var path: String
        var value: String
        var negated: Bool
    }

    let requirements: [Requirement]

    /// Parses `text`; an empty text selects everything.
    ///
    /// - Throws: `Status` BadRequest for a term without an operator.
    init(_ text: String) throws(Status) {
        var requirements: [Requirement] = []
        for term in text.split(separator: ",") {
            if let range = term.range(of: "!=") {
                requirements.append(
                    Requirement(
                        path: trim(term[..<range.lowerBound]), value: trim(term[range.upperBound...]), negated: true))
            } else if let range = term.range(of: "==") ?? term.range(of: "=") {
                requirements.append(
                    Requirement(
                        path: trim(term[..<range.lowerBound]), value: trim(term[range.upperBound...]), negated: false))
            } else {
                throw Status.badRequest("invalid selector: '\(text)'; can't understand '\(term)'")
            }
        }
        self.requirements = requirements
    }

    /// True when `object` meets every requirement; a missing field reads as the empty string.
    func matches(_ object: JSONValue) -> Bool {
        requirements.allSatisfy { requirement in
            let field = object.value(atPath: requirement.path)
            let text = field?.stringValue ?? field?.integerValue.map { String($0) } ?? ""
            return (text == requirement.value) != requirement.negated
        }
    }
}

private func trim<S: StringProtocol>(_ text: S) -> String {
    text.trimmingCharacters(in: .whitespaces)
}

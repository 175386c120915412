import Kubernetes

/// A label selector in the string form that list and watch take as `labelSelector=`, such as
/// `tier=free,app!=grader,env in (dev,test),!legacy`.
///
/// ```swift
/// let selector: LabelSelectorQuery = [.equals("tier", "free"), .in("env", ["dev", "test"])]
/// selector.description  // "tier=free,env in (dev,test)"
/// ```
public struct LabelSelectorQuery: Sendable, Hashable, CustomStringConvertible, ExpressibleByArrayLiteral,
    ExpressibleByStringLiteral
{
    /// One requirement; all must hold for an object to match.
    public enum Requirement: Sendable, Hashable, CustomStringConvertible {
        /// `key=value`.
        case equals(String, String)
        /// `key!=value` (also matches objects without the label).
        case notEquals(String, String)
        /// `key in (a,b)`.
        case `in`(String, [String])
        /// `key notin (a,b)`.
        case notIn(String, [String])
        /// `key`: the label is present.
        case exists(String)
        /// `!key`: the label is absent.
        case doesNotExist(String)
        /// Written as given, for forms this type does not model.
        case raw(String)

        /// The requirement as the server parses it.
        public var description: String {
            switch self {
            case .equals(let key, let value): "\(key)=\(value)"
            case .notEquals(let key, let value): "\(key)!=\(value)"
            case .in(let key, let values): "\(key) in (\(values.joined(separator: ",")))"
            case .notIn(let key, let values): "\(key) notin (\(values.joined(separator: ",")))"
            case .exists(let key): key
            case .doesNotExist(let key): "!\(key)"
            case .raw(let text): text
            }
        }
    }

    /// The requirements, in the order they are written.
    public var requirements: [Requirement]

    /// A selector from requirements.
    public init(_ requirements: [Requirement]) {
        self.requirements = requirements
    }

    /// A selector from requirements written as an array literal.
    public init(arrayLiteral elements: Requirement...) {
        self.requirements = elements
    }

    /// A selector written out already, such as `"job-name=grader-1"`.
    public init(stringLiteral value: String) {
        self.requirements = value.isEmpty ? [] : [.raw(value)]
    }

    /// A selector requiring each label in `labels` to equal its value, keys in sorted order.
    public init(matching labels: [String: String]) {
        self.requirements = labels.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) }
    }

    /// The string form of a `LabelSelector`, such as a Job's `spec.selector`: `matchLabels` as equalities,
    /// then `matchExpressions` (`In`, `NotIn`, `Exists`, `DoesNotExist`).
    public init(_ selector: LabelSelector) {
        var requirements = (selector.matchLabels ?? [:]).sorted { $0.key < $1.key }.map {
            Requirement.equals($0.key, $0.value)
        }
        for expression in selector.matchExpressions ?? [] {
            let values = expression.values ?? []
            switch expression.operator {
            case "In": requirements.append(.in(expression.key, values))
            case "NotIn": requirements.append(.notIn(expression.key, values))
            case "Exists": requirements.append(.exists(expression.key))
            case "DoesNotExist": requirements.append(.doesNotExist(expression.key))
            default:
                requirements.append(.raw("\(expression.key) \(expression.operator) (\(values.joined(separator: ",")))"))
            }
        }
        self.requirements = requirements
    }

    /// True when the selector selects everything.
    public var isEmpty: Bool { requirements.isEmpty }

    /// The requirements joined by commas.
    public var description: String { requirements.map(\.description).joined(separator: ",") }
}

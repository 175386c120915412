import Kubernetes

/// The arithmetic of the ResourceQuota admission plugin, kept free of storage so it can be tested alone:
/// what a pod or Job counts for, which quotas it falls under, and whether adding it stays within `hard`.
enum QuotaEvaluator {
    /// The compute resources a pod must state in every container when a quota caps them.
    static let computeResources = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "cpu", "memory"]

    /// A quota's caps and scopes, read from its raw JSON (the typed spec has no `scopes`).
    struct Quota: Sendable {
        var name: String
        var hard: [String: Quantity]
        var scopes: [String]

        init(name: String, hard: [String: Quantity], scopes: [String] = []) {
            self.name = name
            self.hard = hard
            self.scopes = scopes
        }

        init(_ object: KubernetesObject) {
            let quota = try? object.decoded(as: ResourceQuota.self)
            self.name = object.name
            self.hard = quota?.spec?.hard ?? [:]
            self.scopes = object.raw.value(atPath: "spec.scopes")?.arrayValue?.compactMap(\.stringValue) ?? []
        }
    }

    /// True when `pod` counts against a quota with `scopes`: `Terminating` pods set
    /// `spec.activeDeadlineSeconds`, `NotTerminating` pods do not; `BestEffort` pods set no requests or limits.
    static func pod(_ pod: JSONValue, matches scopes: [String]) -> Bool {
        scopes.allSatisfy { scope in
            switch scope {
            case "Terminating": return pod.value(atPath: "spec.activeDeadlineSeconds")?.integerValue != nil
            case "NotTerminating": return pod.value(atPath: "spec.activeDeadlineSeconds")?.integerValue == nil
            case "BestEffort": return ObjectDefaults.qosClass(pod) == "BestEffort"
            case "NotBestEffort": return ObjectDefaults.qosClass(pod) != "BestEffort"
            default: return false
            }
        }
    }

    /// True for pods quota still counts: not `Succeeded` or `Failed`.
    static func countsAgainstQuota(_ pod: JSONValue) -> Bool {
        let phase = pod.value(atPath: "status.phase")?.stringValue
        return phase != "Succeeded" && phase != "Failed"
    }

    /// What one pod counts for: `pods`, `count/pods`, and the sums of its containers' requests and limits
    /// (`cpu` and `memory` are the requests).
    static func usage(ofPod pod: JSONValue) -> [String: Quantity] {
        var usage: [String: Quantity] = ["pods": Quantity(integer: 1), "count/pods": Quantity(integer: 1)]
        for container in pod.value(atPath: "spec.containers")?.arrayValue ?? [] {
            for kind in ["requests", "limits"] {
                for resource in ["cpu", "memory"] {
                    guard let text = container.value(atPath: "resources.\(kind).\(resource)")?.stringValue,
                        let quantity = try? Quantity(text)
                    else { continue }
                    let key = "\(kind).\(resource)"
                    usage[key] = usage[key].map { $0 + quantity } ?? quantity
                    if kind == "requests" { usage[resource] = usage[key] }
                }
            }
        }
        return usage
    }

    /// The compute resources capped by `hard` that some container of `pod` leaves unset, each with the
    /// containers that leave it unset, sorted by resource.
    static func missingResources(_ pod: JSONValue, hard: [String: Quantity]) -> [(
        resource: String, containers: [String]
    )] {
        let containers = pod.value(atPath: "spec.containers")?.arrayValue ?? []
        var missing: [(resource: String, containers: [String])] = []
        for resource in computeResources.sorted() where hard[resource] != nil {
            let path = resource.contains(".") ? "resources.\(resource)" : "resources.requests.\(resource)"
            let lacking = containers.filter { $0.value(atPath: path) == nil }.map { $0["name"]?.stringValue ?? "" }
            if !lacking.isEmpty { missing.append((resource, lacking)) }
        }
        return missing
    }

    /// The message for a pod missing capped resources: `failed quota: Q: must specify limits.cpu for: C; ...`.
    static func missingMessage(quota: String, missing: [(resource: String, containers: [String])]) -> String {
        let parts = missing.map { "\($0.resource) for: \($0.containers.joined(separator: ","))" }
        return "failed quota: \(quota): must specify \(parts.joined(separator: "; "))"
    }

    /// Nil when `requested` fits within `quota` on top of `used`; otherwise the plugin's message naming
    /// only the exceeded resources:
    /// `exceeded quota: Q, requested: pods=1, used: pods=2, limited: pods=2`.
    static func exceeded(quota: Quota, used: [String: Quantity], requested: [String: Quantity]) -> String? {
        var exceeded: [String] = []
        for (resource, limit) in quota.hard {
            guard let amount = requested[resource], !amount.isZero else { continue }
            let current = used[resource] ?? .zero
            if current.nanoValue + amount.nanoValue > limit.nanoValue { exceeded.append(resource) }
        }
        guard !exceeded.isEmpty else { return nil }
        exceeded.sort()
        func list(_ values: [String: Quantity]) -> String {
            exceeded.map { "\($0)=\((values[$0] ?? .zero).text)" }.joined(separator: ",")
        }
        return "exceeded quota: \(quota.name), requested: \(list(requested)), used: \(list(used)), "
            + "limited: \(list(quota.hard))"
    }

    /// The sum of what `pods` count for, restricted to the resources `quota` caps, with zeros for the rest.
    static func used(by pods: [JSONValue], objectCounts: [String: Int], quota: Quota) -> [String: Quantity] {
        var used: [String: Quantity] = [:]
        for resource in quota.hard.keys {
            if resource.hasPrefix("count/") && resource != "count/pods" {
                used[resource] = Quantity(integer: Int64(objectCounts[resource] ?? 0))
            } else {
                used[resource] = Quantity(nanoValue: 0, format: quota.hard[resource]?.format ?? .decimalSI)
            }
        }
        for pod in pods where countsAgainstQuota(pod) && self.pod(pod, matches: quota.scopes) {
            for (resource, amount) in usage(ofPod: pod) where used[resource] != nil {
                used[resource] = sum(used[resource], amount)
            }
        }
        return used
    }

    /// `a + b`, written in `b`'s format when `a` is zero so `0 + 256Mi` reads `256Mi`.
    private static func sum(_ a: Quantity?, _ b: Quantity) -> Quantity {
        guard let a, !a.isZero else { return b }
        return a + b
    }
}

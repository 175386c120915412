import Kubernetes

/// The LimitRanger admission plugin for pods: container defaults from the namespace's LimitRanges, then
/// the per-container maximum and minimum.
enum LimitRangeDefaulter {
    /// Applies `limitRanges` to the new `pod`.
    ///
    /// Order as in Kubernetes: a missing limit takes `default`; a missing request takes `defaultRequest`,
    /// or else the (possibly defaulted) limit.
    ///
    /// - Throws: `Status` Forbidden when a container exceeds a maximum or falls below a minimum.
    static func apply(_ limitRanges: [LimitRange], to pod: inout KubernetesObject) throws(Status) {
        let items = limitRanges.flatMap { $0.spec?.limits ?? [] }.filter { $0.type == "Container" }
        var containers = pod.raw.value(atPath: "spec.containers")?.arrayValue ?? []
        for index in containers.indices {
            var limits = containers[index].value(atPath: "resources.limits")?.objectValue ?? [:]
            var requests = containers[index].value(atPath: "resources.requests")?.objectValue ?? [:]
            for item in items {
                for (resource, quantity) in item.default ?? [:] where limits[resource] == nil {
                    limits[resource] = .string(quantity.text)
                }
                for (resource, quantity) in item.defaultRequest ?? [:] where requests[resource] == nil {
                    requests[resource] = .string(quantity.text)
                }
            }
            for (resource, limit) in limits where requests[resource] == nil {
                requests[resource] = limit
            }
            try check(items, limits: limits, requests: requests, pod: pod.name)
            containers[index].modify("resources") { resources in
                if !limits.isEmpty { resources.set("limits", .object(limits)) }
                if !requests.isEmpty { resources.set("requests", .object(requests)) }
            }
        }
        pod.raw.modify("spec") { $0.set("containers", .array(containers)) }
    }

    private static func check(
        _ items: [LimitRange.Item], limits: [String: JSONValue], requests: [String: JSONValue], pod: String
    ) throws(Status) {
        func quantity(_ value: JSONValue?) -> Quantity? {
            (value?.stringValue).flatMap { try? Quantity($0) }
        }
        for item in items {
            for (resource, maximum) in item.max ?? [:] {
                if let limit = quantity(limits[resource]), limit > maximum {
                    throw Status.quotaForbidden(
                        resource: "pods", group: "", name: pod,
                        reason: "maximum \(resource) usage per Container is \(maximum.text), but limit is \(limit.text)"
                    )
                }
            }
            for (resource, minimum) in item.min ?? [:] {
                if let request = quantity(requests[resource]), request < minimum {
                    throw Status.quotaForbidden(
                        resource: "pods", group: "", name: pod,
                        reason: "minimum \(resource) usage per Container is \(minimum.text), but request is "
                            + request.text)
                }
            }
        }
    }
}

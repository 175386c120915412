import Kubernetes

/// The LimitRanger and ResourceQuota admission plugins, run inside the create's transaction so that the
/// usage they read cannot change before the new object is stored.
enum QuotaAdmission {
    /// Applies LimitRange defaults to a new pod and checks every quota of the namespace.
    ///
    /// - Throws: `Status` Forbidden with the plugins' messages.
    static func admit(_ type: ResourceType, _ object: inout KubernetesObject, transaction: StoreTransaction) throws {
        guard type == .pods || type == .jobs else { return }
        let namespace = object.namespace
        if type == .pods {
            let ranges = try transaction.list(.limitRanges, namespace: namespace).compactMap {
                try? $0.decoded(as: LimitRange.self)
            }
            try LimitRangeDefaulter.apply(ranges, to: &object)
            let qosClass = ObjectDefaults.qosClass(object.raw)
            object.raw.modify("status") { $0.set("qosClass", .string(qosClass)) }
        }

        let quotas = try transaction.list(.resourceQuotas, namespace: namespace).map(QuotaEvaluator.Quota.init)
        guard !quotas.isEmpty else { return }
        let pods = type == .pods ? try transaction.list(.pods, namespace: namespace).map(\.raw) : []
        let counts = try objectCounts(namespace: namespace, transaction: transaction)
        for quota in quotas {
            let requested: [String: Quantity]
            if type == .pods {
                guard QuotaEvaluator.pod(object.raw, matches: quota.scopes) else { continue }
                let missing = QuotaEvaluator.missingResources(object.raw, hard: quota.hard)
                if !missing.isEmpty {
                    throw Status.quotaForbidden(
                        resource: "pods", group: "", name: object.name,
                        reason: QuotaEvaluator.missingMessage(quota: quota.name, missing: missing))
                }
                requested = QuotaEvaluator.usage(ofPod: object.raw)
            } else {
                guard quota.scopes.isEmpty else { continue }
                requested = ["count/jobs.batch": Quantity(integer: 1)]
            }
            let used = QuotaEvaluator.used(by: pods, objectCounts: counts, quota: quota)
            if let message = QuotaEvaluator.exceeded(quota: quota, used: used, requested: requested) {
                throw Status.quotaForbidden(
                    resource: type.resource, group: type.group, name: object.name, reason: message)
            }
        }
    }

    /// Rewrites `status.hard` and `status.used` of the namespace's quotas that no longer match the stored
    /// objects. Called in every transaction that changes a namespace's pods or Jobs.
    static func refreshStatus(namespace: String, transaction: StoreTransaction) throws {
        let quotas = try transaction.list(.resourceQuotas, namespace: namespace)
        guard !quotas.isEmpty else { return }
        let pods = try transaction.list(.pods, namespace: namespace).map(\.raw)
        let counts = try objectCounts(namespace: namespace, transaction: transaction)
        for var object in quotas {
            let quota = QuotaEvaluator.Quota(object)
            let used = QuotaEvaluator.used(by: pods, objectCounts: counts, quota: quota)
            let status = JSONValue.object([
                "hard": .object(quota.hard.mapValues { .string($0.text) }),
                "used": .object(used.mapValues { .string($0.text) }),
            ])
            if object.raw["status"] != status {
                object.raw.set("status", status)
                _ = try transaction.replace(.resourceQuotas, object)
            }
        }
    }

    /// `count/<resource>` for every emulated resource that quotas may count.
    private static func objectCounts(namespace: String, transaction: StoreTransaction) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for type in [ResourceType.jobs, .serviceAccounts, .roles, .roleBindings] {
            counts["count/\(type.qualifiedName)"] = try transaction.count(type, namespace: namespace)
        }
        return counts
    }
}

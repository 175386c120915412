import Foundation
import Kubernetes
import KubernetesClient

/// What the grader knows of one tier's namespace: its Jobs and their pods, and its quota, each cached.
///
/// Freshness: both caches are read again when a request finds them older than the configured maximum age,
/// and, when polling is on, every poll interval in the background, so requests are usually answered from
/// data under a second old. Polling was chosen over a watch: the grader needs three collections (Jobs, Pods,
/// the quota), small ones, and a one-second list is simpler to reason about than three watches and their
/// resynchronisation, at the price of a list per collection per second.
final class TierReader: Sendable {
    /// The Jobs of the namespace with all its pods.
    struct Workload: Sendable {
        var jobs: [Job]
        var pods: [Pod]

        /// The pods that belong to `job`, oldest first: those its selector matches, else those labelled with
        /// its name.
        func pods(of job: Job) -> [Pod] {
            let name = job.metadata.name ?? ""
            let selector = job.spec?.selector
            let matching = pods.filter { pod in
                let labels = pod.metadata.labels ?? [:]
                if let selector, selector.matchLabels?.isEmpty == false || selector.matchExpressions?.isEmpty == false {
                    return selector.matches(labels)
                }
                return labels["batch.kubernetes.io/job-name"] == name || labels["job-name"] == name
            }
            return matching.sorted { lhs, rhs in
                let left = lhs.metadata.creationTimestamp?.date ?? .distantPast
                let right = rhs.metadata.creationTimestamp?.date ?? .distantPast
                return left == right ? (lhs.metadata.name ?? "") < (rhs.metadata.name ?? "") : left < right
            }
        }
    }

    /// The tier.
    let tier: GraderConfiguration.Tier
    /// Its Jobs and pods.
    let workload: SnapshotCache<Workload>
    /// Its ResourceQuota.
    let quota: SnapshotCache<ResourceQuota>

    init(
        tier: GraderConfiguration.Tier, client: KubernetesClient, timeout: Duration, now: @escaping @Sendable () -> Date
    ) {
        self.tier = tier
        let namespace = tier.namespace
        workload = SnapshotCache(now: now) { () async throws(GraderError) -> Workload in
            // Both lists at once, so an unreachable cluster costs one timeout, not two.
            async let jobs = Self.call("Jobs in \(namespace)") { () async throws(KubernetesClientError) in
                try await client.jobs(in: namespace, timeout: timeout)
            }
            async let pods = Self.call("Pods in \(namespace)") { () async throws(KubernetesClientError) in
                try await client.pods(in: namespace, timeout: timeout)
            }
            do {
                return Workload(jobs: try await jobs, pods: try await pods)
            } catch let error as GraderError {
                throw error
            } catch {
                throw .clusterUnavailable("reading \(namespace) failed: \(error)")
            }
        }
        let quotaName = tier.quota
        quota = SnapshotCache(now: now) { () async throws(GraderError) -> ResourceQuota in
            try await Self.call("ResourceQuota \(quotaName) in \(namespace)") {
                () async throws(KubernetesClientError) in
                try await client.resourceQuota(named: quotaName, in: namespace, timeout: timeout)
            }
        }
    }

    /// Runs a Kubernetes call, turning its error into the grader's.
    static func call<T>(
        _ subject: String, _ body: () async throws(KubernetesClientError) -> T
    ) async throws(GraderError) -> T {
        do {
            return try await body()
        } catch {
            throw GraderError.from(error, subject: subject)
        }
    }
}

import Dispatch
import Foundation
import Kubernetes
import Logging
import Synchronization

/// The Job controller: keeps each Job's pods and status in line with its spec.
///
/// It reacts to changes, never polls: a Job's own changes and its pods' changes queue the Job for a
/// reconcile on one serial queue. A Job whose pod quota rejected waits in its namespace's waiting set
/// until a pod there finishes or goes (or a quota changes), which is exactly when usage can have dropped.
/// Deadlines and TTLs are timers on the injected clock.
final class JobController: Sendable {
    /// A Job's namespace and name.
    struct JobKey: Hashable, Sendable {
        var namespace: String
        var name: String
    }

    private struct State {
        var dirty: Set<JobKey> = []
        var draining = false
        /// Jobs whose last pod create was refused, by namespace.
        var waiting: [String: Set<JobKey>] = [:]
        /// Jobs with a deadline or TTL timer pending.
        var timers: Set<JobKey> = []
        var stopped = false
        var subscription: Int?
    }

    let registry: Registry
    let clock: any ClusterClock
    let logger: Logger
    private let queue = DispatchQueue(label: "local-cluster.job-controller")
    private let state = Mutex(State())
    private let timerTasks = Mutex<[Task<Void, Never>]>([])

    init(registry: Registry, clock: any ClusterClock, logger: Logger) {
        self.registry = registry
        self.clock = clock
        self.logger = logger
    }

    /// Starts reacting to changes and reconciles every stored Job once.
    func start() throws {
        let id = try registry.store.hub.subscribe(
            WatchHub.Subscriber(type: nil) { [weak self] event in
                self?.changed(event)
            })
        state.withLock { $0.subscription = id }
        for job in try registry.list(.jobs, namespace: nil).items {
            enqueue(JobKey(namespace: job.namespace, name: job.name))
        }
    }

    /// Stops reacting and cancels timers; a reconcile in progress finishes.
    func stop() async {
        let subscription = state.withLock { state -> Int? in
            state.stopped = true
            return state.subscription
        }
        if let subscription { registry.store.hub.unsubscribe(subscription) }
        for task in timerTasks.withLock({ $0 }) { task.cancel() }
        await withCheckedContinuation { continuation in queue.async { continuation.resume() } }
    }

    // MARK: - Queueing

    /// Called by the hub under its lock: only queues.
    private func changed(_ event: ChangeEvent) {
        switch event.type {
        case .jobs where event.kind != .deleted:
            enqueue(JobKey(namespace: event.object.namespace, name: event.object.name))
        case .pods:
            let pod = event.object
            let owners = pod.raw.value(atPath: "metadata.ownerReferences")?.arrayValue ?? []
            if let owner = owners.first(where: { $0["kind"]?.stringValue == "Job" }),
                let name = owner["name"]?.stringValue
            {
                enqueue(JobKey(namespace: pod.namespace, name: name))
            }
            if event.kind == .deleted || !QuotaEvaluator.countsAgainstQuota(pod.raw) {
                wakeWaiting(namespace: pod.namespace)
            }
        case .resourceQuotas:
            wakeWaiting(namespace: event.object.namespace)
        default:
            break
        }
    }

    private func wakeWaiting(namespace: String) {
        let keys = state.withLock { $0.waiting.removeValue(forKey: namespace) ?? [] }
        for key in keys { enqueue(key) }
    }

    private func enqueue(_ key: JobKey) {
        let start = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.dirty.insert(key)
            guard !state.draining else { return false }
            state.draining = true
            return true
        }
        if start { queue.async { self.drain() } }
    }

    private func drain() {
        while true {
            let key = state.withLock { state -> JobKey? in
                guard !state.stopped, let key = state.dirty.popFirst() else {
                    state.draining = false
                    return nil
                }
                return key
            }
            guard let key else { return }
            do {
                try reconcile(key)
            } catch {
                logger.error("reconcile failed", ["namespace": key.namespace, "job": key.name, "error": "\(error)"])
            }
        }
    }

    private func schedule(_ key: JobKey, at deadline: Date) {
        let isNew = state.withLock { $0.timers.insert(key).inserted }
        guard isNew else { return }
        let task = Task { [clock] in
            try? await clock.sleep(until: deadline)
            self.state.withLock { _ = $0.timers.remove(key) }
            if !Task.isCancelled { self.enqueue(key) }
        }
        timerTasks.withLock { tasks in
            tasks.removeAll { $0.isCancelled }
            tasks.append(task)
        }
    }

    // MARK: - Reconcile

    private func reconcile(_ key: JobKey) throws {
        // 1. The Job and its pods as stored now.
        guard let object = try? registry.get(.jobs, namespace: key.namespace, name: key.name),
            let job = try? object.decoded(as: Job.self), let spec = job.spec
        else { return }
        let now = clock.now
        if job.isFinished {
            try expireIfDue(key, job: job, now: now)
            return
        }
        let pods = try registry.pods(ownedBy: object.uid)
        let phases = pods.map { $0.raw.value(atPath: "status.phase")?.stringValue ?? "Pending" }
        let succeeded = phases.filter { $0 == "Succeeded" }.count
        let failed = phases.filter { $0 == "Failed" }.count
        var active = pods.filter { QuotaEvaluator.countsAgainstQuota($0.raw) }
        let ready = phases.filter { $0 == "Running" }.count

        let completions = Int(spec.completions ?? 1)
        let parallelism = Int(spec.parallelism ?? 1)
        let backoffLimit = Int(spec.backoffLimit ?? 6)
        let startTime = job.status?.startTime?.date ?? now

        // 2. Decide: complete, failed (backoff or deadline), or keep running with enough pods.
        var finish: (type: String, target: String, reason: String, message: String)?
        if succeeded >= completions {
            finish = (
                "Complete", "SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"
            )
        } else if failed > backoffLimit {
            finish = ("Failed", "FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
        } else if let deadline = spec.activeDeadlineSeconds {
            let end = startTime.addingTimeInterval(TimeInterval(deadline))
            if now >= end {
                finish = (
                    "Failed", "FailureTarget", "DeadlineExceeded", "Job was active longer than specified deadline"
                )
            } else {
                schedule(key, at: end)
            }
        }

        if let finish {
            for pod in active {
                _ = try? registry.delete(.pods, namespace: key.namespace, name: pod.name, propagation: nil)
            }
            active = []
            try writeStatus(key, uid: object.uid) { status in
                status.set("active", .integer(0))
                status.set("ready", .integer(0))
                status.set("terminating", .integer(0))
                status.set("succeeded", .integer(Int64(succeeded)))
                status.set("failed", .integer(Int64(failed)))
                if status["startTime"] == nil {
                    status.set("startTime", .string(KubernetesTime(startTime).description))
                }
                let time = JSONValue.string(KubernetesTime(now).description)
                var conditions = status["conditions"]?.arrayValue ?? []
                for type in [finish.target, finish.type] {
                    conditions.append(
                        .object([
                            "type": .string(type), "status": "True", "reason": .string(finish.reason),
                            "message": .string(finish.message), "lastProbeTime": time, "lastTransitionTime": time,
                        ]))
                }
                status.set("conditions", .array(conditions))
                if finish.type == "Complete" { status.set("completionTime", time) }
                status.set("uncountedTerminatedPods", .object([:]))
            }
            let warning = finish.type == "Failed"
            registry.recordEvent(
                about: object, type: .jobs, eventType: warning ? "Warning" : "Normal",
                reason: warning ? finish.reason : "Completed", message: warning ? finish.message : "Job completed")
            logger.info(
                "job finished",
                ["namespace": key.namespace, "job": key.name, "condition": finish.type, "reason": finish.reason])
            if let refreshed = try? registry.get(.jobs, namespace: key.namespace, name: key.name),
                let finished = try? refreshed.decoded(as: Job.self)
            {
                try expireIfDue(key, job: finished, now: now)
            }
            return
        }

        // 3. Create the missing pods; a refusal parks the Job until quota can have freed up.
        let wanted = min(parallelism, completions - succeeded) - active.count
        var created = 0
        if spec.suspend != true {
            for _ in 0..<max(0, wanted) {
                do {
                    let pod = try registry.create(
                        .pods, namespace: key.namespace, body: podBody(for: object, spec: spec))
                    created += 1
                    registry.recordEvent(
                        about: object, type: .jobs, eventType: "Normal", reason: "SuccessfulCreate",
                        message: "Created pod: \(pod.name)")
                } catch {
                    state.withLock { $0.waiting[key.namespace, default: []].insert(key) }
                    registry.recordEvent(
                        about: object, type: .jobs, eventType: "Warning", reason: "FailedCreate",
                        message: "Error creating: \(error.message ?? "\(error)")")
                    logger.info(
                        "pod create refused",
                        ["namespace": key.namespace, "job": key.name, "reason": error.reason ?? ""])
                    break
                }
            }
        }

        // 4. Report.
        try writeStatus(key, uid: object.uid) { status in
            if status["startTime"] == nil { status.set("startTime", .string(KubernetesTime(startTime).description)) }
            status.set("active", .integer(Int64(active.count + created)))
            status.set("ready", .integer(Int64(ready)))
            status.set("terminating", .integer(0))
            if succeeded > 0 || status["succeeded"] != nil { status.set("succeeded", .integer(Int64(succeeded))) }
            if failed > 0 || status["failed"] != nil { status.set("failed", .integer(Int64(failed))) }
            status.set("uncountedTerminatedPods", .object([:]))
        }
    }

    private func writeStatus(_ key: JobKey, uid: String, _ change: @escaping (inout JSONValue) -> Void) throws {
        try registry.mutate(.jobs, namespace: key.namespace, name: key.name) { job in
            guard job.uid == uid else { return }
            job.raw.modify("status", change)
        }
    }

    /// Deletes a finished Job once its `ttlSecondsAfterFinished` has passed, or sets a timer for then.
    private func expireIfDue(_ key: JobKey, job: Job, now: Date) throws {
        guard let ttl = job.spec?.ttlSecondsAfterFinished else { return }
        let finishedAt =
            job.status?.completionTime?.date
            ?? job.status?.conditions?.first { $0.type == "Failed" }?.lastTransitionTime?.date ?? now
        let due = finishedAt.addingTimeInterval(TimeInterval(ttl))
        if now >= due {
            _ = try? registry.delete(.jobs, namespace: key.namespace, name: key.name, propagation: .background)
            logger.info("job deleted after ttl", ["namespace": key.namespace, "job": key.name, "ttl": ttl])
        } else {
            schedule(key, at: due)
        }
    }

    /// A new pod from the Job's template, owned by the Job.
    private func podBody(for job: KubernetesObject, spec: JobSpec) -> JSONValue {
        var metadata = job.raw.value(atPath: "spec.template.metadata") ?? .object([:])
        metadata.set("name", nil)
        metadata.set("generateName", .string("\(job.name)-"))
        metadata.set("namespace", .string(job.namespace))
        metadata.set(
            "ownerReferences",
            .array([
                .object([
                    "apiVersion": "batch/v1", "kind": "Job", "name": .string(job.name), "uid": .string(job.uid),
                    "controller": .bool(true), "blockOwnerDeletion": .bool(true),
                ])
            ]))
        return .object([
            "apiVersion": "v1", "kind": "Pod", "metadata": metadata,
            "spec": job.raw.value(atPath: "spec.template.spec") ?? .object([:]),
        ])
    }
}

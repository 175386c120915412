import Kubernetes

/// Where a Job stands, as the grader reports it.
public enum JobPhase: String, Sendable, Codable, Equatable {
    /// Created, but no pod of it has started running yet (none exists, or they are still being scheduled).
    case pending
    /// A pod is running, or a pod failed and the controller is retrying (no `Failed` condition yet).
    case running
    /// The `Complete` condition is True.
    case succeeded
    /// The `Failed` condition is True.
    case failed
}

/// What the grader says about one pod of a Job.
public struct PodReport: Sendable, Equatable, Encodable {
    /// The pod's name.
    public var name: String
    /// The pod's phase (`Pending`, `Running`, `Succeeded`, `Failed`), or `Unknown` when the kubelet gave none.
    public var phase: String
    /// The exit code of its first container to exit non-zero, else of its first container to exit; nil
    /// while no container has exited.
    public var exitCode: Int32?
    /// Why the container exited or is waiting, such as `Completed`, `Error`, `OOMKilled` or `ContainerCreating`.
    public var reason: String?
    /// When the kubelet accepted the pod.
    public var startTime: KubernetesTime?

    /// The report of `pod`.
    init(_ pod: Pod) {
        name = pod.metadata.name ?? ""
        phase = pod.status?.phase?.rawValue ?? PodPhase.unknown.rawValue
        let statuses = pod.status?.containerStatuses ?? []
        let terminated = statuses.compactMap(\.state?.terminated)
        let exited = terminated.first { $0.exitCode != 0 } ?? terminated.first
        exitCode = exited?.exitCode
        reason = exited?.reason ?? statuses.compactMap(\.state?.waiting?.reason).first ?? pod.status?.reason
        startTime = pod.status?.startTime
    }

    /// True once some container of the pod has run (it is running or has exited), so it has a log to read.
    static func hasStarted(_ pod: Pod) -> Bool {
        if let phase = pod.status?.phase, phase != .pending, phase != .unknown { return true }
        return (pod.status?.containerStatuses ?? []).contains {
            $0.state?.running != nil || $0.state?.terminated != nil
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, phase, reason
        case exitCode = "exit_code"
        case startTime = "start_time"
    }

    /// Encodes every field, absent ones as `null`, so clients see one shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(phase, forKey: .phase)
        try container.encode(exitCode, forKey: .exitCode)
        try container.encode(reason, forKey: .reason)
        try container.encode(startTime, forKey: .startTime)
    }
}

/// One condition of a Job, as reported.
public struct ConditionReport: Sendable, Equatable, Encodable {
    /// `Complete`, `Failed`, `SuccessCriteriaMet`, `FailureTarget`, `Suspended`.
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    /// A machine-readable reason, such as `BackoffLimitExceeded`.
    public var reason: String?
    /// A human-readable message.
    public var message: String?
    /// When the condition last changed.
    public var lastTransitionTime: KubernetesTime?

    enum CodingKeys: String, CodingKey {
        case type, status, reason, message
        case lastTransitionTime = "last_transition_time"
    }

    /// Encodes every field, absent ones as `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(status, forKey: .status)
        try container.encode(reason, forKey: .reason)
        try container.encode(message, forKey: .message)
        try container.encode(lastTransitionTime, forKey: .lastTransitionTime)
    }
}

/// What the grader says about one Job: its phase, the evidence for it, and its pods.
public struct JobReport: Sendable, Equatable, Encodable {
    /// The Job's name.
    public var name: String
    /// Where it stands.
    public var status: JobPhase
    /// The rule that gave `status`, in words, naming the condition or pod behind it.
    public var statusReason: String
    /// When the controller started it.
    public var startTime: KubernetesTime?
    /// When it completed; unset while running and for failed Jobs.
    public var completionTime: KubernetesTime?
    /// Pods that exist and have not finished, as the Job's status counts them.
    public var active: Int32
    /// Pods that succeeded.
    public var succeeded: Int32
    /// Pods that failed.
    public var failed: Int32
    /// The Job's conditions, all of them, True or not.
    public var conditions: [ConditionReport]
    /// Its pods, oldest first.
    public var pods: [PodReport]

    /// The report of `job`, given its pods.
    init(_ job: Job, pods: [Pod]) {
        name = job.metadata.name ?? ""
        (status, statusReason) = Self.phase(of: job, pods: pods)
        startTime = job.status?.startTime
        completionTime = job.status?.completionTime
        active = job.status?.active ?? 0
        succeeded = job.status?.succeeded ?? 0
        failed = job.status?.failed ?? 0
        conditions = (job.status?.conditions ?? []).map {
            ConditionReport(
                type: $0.type, status: $0.status, reason: $0.reason, message: $0.message,
                lastTransitionTime: $0.lastTransitionTime)
        }
        self.pods = pods.map(PodReport.init)
    }

    /// The phase of `job` and the reason for it.
    ///
    /// The Job controller decides when a Job has failed or succeeded and says so with a condition; the grader
    /// does not second-guess it. A failed pod alone does not fail a Job: the controller retries it until the
    /// backoff limit, and only then sets `Failed`.
    static func phase(of job: Job, pods: [Pod]) -> (JobPhase, String) {
        // 1. The controller's verdicts, failure first: a Job is never both, but Failed is the one to trust.
        if let failed = job.condition("Failed") {
            return (.failed, "the Failed condition is True" + because(failed))
        }
        if let complete = job.condition("Complete") {
            return (.succeeded, "the Complete condition is True" + because(complete))
        }

        // 2. Still going: a pod is running, or some pod already ran (failed and being retried, or one of
        // several completions done).
        if let running = pods.first(where: { $0.status?.phase == .running }) {
            return (.running, "pod \(running.metadata.name ?? "") is running")
        }
        let failedPods = max(Int(job.status?.failed ?? 0), pods.count { $0.status?.phase == .failed })
        if failedPods > 0 {
            let limit = job.spec?.backoffLimit.map { " of \($0) allowed" } ?? ""
            return (
                .running,
                "\(failedPods) pod failure\(failedPods == 1 ? "" : "s")\(limit) and no Failed condition: the "
                    + "controller is retrying"
            )
        }
        let succeededPods = max(Int(job.status?.succeeded ?? 0), pods.count { $0.status?.phase == .succeeded })
        if succeededPods > 0 {
            return (.running, "\(succeededPods) pod\(succeededPods == 1 ? "" : "s") succeeded; not yet Complete")
        }

        // 3. Nothing has run yet.
        if pods.isEmpty { return (.pending, "no pod has been created yet") }
        return (.pending, "no pod has started running yet")
    }

    private static func because(_ condition: JobCondition) -> String {
        condition.reason.map { " (\($0))" } ?? ""
    }

    enum CodingKeys: String, CodingKey {
        case name, status, active, succeeded, failed, conditions, pods
        case statusReason = "status_reason"
        case startTime = "start_time"
        case completionTime = "completion_time"
    }

    /// Encodes every field, absent times as `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(status, forKey: .status)
        try container.encode(statusReason, forKey: .statusReason)
        try container.encode(startTime, forKey: .startTime)
        try container.encode(completionTime, forKey: .completionTime)
        try container.encode(active, forKey: .active)
        try container.encode(succeeded, forKey: .succeeded)
        try container.encode(failed, forKey: .failed)
        try container.encode(conditions, forKey: .conditions)
        try container.encode(pods, forKey: .pods)
    }
}

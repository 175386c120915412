/// A Job (`batch/v1`): runs pods until a number of them succeed.
public struct Job: Sendable, Hashable, Codable {
    /// `batch/v1`.
    public var apiVersion: String? = "batch/v1"
    /// `Job`.
    public var kind: String? = "Job"
    /// The object metadata.
    public var metadata = ObjectMeta()
    /// What to run and how often to retry.
    public var spec: JobSpec?
    /// Progress, as the Job controller reports it.
    public var status: JobStatus?

    /// A Job with metadata and a spec.
    public init(metadata: ObjectMeta = ObjectMeta(), spec: JobSpec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }

    /// The condition of `type` (`Complete`, `Failed`, ...) when its status is `True`.
    public func condition(_ type: String) -> JobCondition? {
        status?.conditions?.first { $0.type == type && $0.status == "True" }
    }

    /// True once the Job has a `Complete` or `Failed` condition.
    public var isFinished: Bool { condition("Complete") != nil || condition("Failed") != nil }
}

/// A Job's `spec`.
public struct JobSpec: Sendable, Hashable, Codable {
    /// The pod to run.
    public var template: PodTemplateSpec
    /// How many pods must succeed; default 1.
    public var completions: Int32?
    /// How many pods may run at once; default 1.
    public var parallelism: Int32?
    /// How many pod failures are retried before the Job fails; default 6.
    public var backoffLimit: Int32?
    /// How long the Job may run, from its start, before it fails with `DeadlineExceeded`.
    public var activeDeadlineSeconds: Int64?
    /// How long after finishing the Job is deleted.
    public var ttlSecondsAfterFinished: Int32?
    /// Selects the Job's pods; the server fills it with the controller uid.
    public var selector: LabelSelector?
    /// True when the selector was given by the user, not generated.
    public var manualSelector: Bool?
    /// True to hold the Job's pods back.
    public var suspend: Bool?

    /// A spec running `template`.
    public init(template: PodTemplateSpec, backoffLimit: Int32? = nil, activeDeadlineSeconds: Int64? = nil) {
        self.template = template
        self.backoffLimit = backoffLimit
        self.activeDeadlineSeconds = activeDeadlineSeconds
    }
}

/// A Job's `status`.
public struct JobStatus: Sendable, Hashable, Codable {
    /// Pods that exist and have not finished.
    public var active: Int32?
    /// Pods that succeeded.
    public var succeeded: Int32?
    /// Pods that failed.
    public var failed: Int32?
    /// Active pods that are ready.
    public var ready: Int32?
    /// `Complete`, `Failed`, `SuccessCriteriaMet`, `FailureTarget`, `Suspended`.
    public var conditions: [JobCondition]?
    /// When the controller started the Job.
    public var startTime: KubernetesTime?
    /// When the Job completed; unset for failed Jobs.
    public var completionTime: KubernetesTime?

    /// An empty status.
    public init() {}
}

/// One condition of a Job.
public struct JobCondition: Sendable, Hashable, Codable {
    /// The condition, such as `Complete` or `Failed`.
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    /// A machine-readable reason, such as `BackoffLimitExceeded` or `DeadlineExceeded`.
    public var reason: String?
    /// A human-readable message.
    public var message: String?
    /// When the condition was last checked.
    public var lastProbeTime: KubernetesTime?
    /// When the status last changed.
    public var lastTransitionTime: KubernetesTime?

    /// A condition from its parts.
    public init(
        type: String, status: String = "True", reason: String? = nil, message: String? = nil,
        lastTransitionTime: KubernetesTime? = nil
    ) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastProbeTime = lastTransitionTime
        self.lastTransitionTime = lastTransitionTime
    }
}

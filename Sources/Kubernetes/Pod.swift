/// A Pod (`v1`): containers scheduled together.
public struct Pod: Sendable, Hashable, Codable {
    /// `v1`.
    public var apiVersion: String? = "v1"
    /// `Pod`.
    public var kind: String? = "Pod"
    /// The object metadata.
    public var metadata = ObjectMeta()
    /// What to run.
    public var spec: PodSpec?
    /// What is running, as the kubelet reports it.
    public var status: PodStatus?

    /// A pod with metadata and a spec.
    public init(metadata: ObjectMeta = ObjectMeta(), spec: PodSpec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// A Pod's `spec`.
public struct PodSpec: Sendable, Hashable, Codable {
    /// The containers, run together.
    public var containers: [Container] = []
    /// Containers run to completion, in order, before `containers` start.
    public var initContainers: [Container]?
    /// `Always`, `OnFailure` or `Never`; a Job's pods use `Never` or `OnFailure`.
    public var restartPolicy: String?
    /// The service account whose token the pod gets.
    public var serviceAccountName: String?
    /// Whether the service account token is mounted.
    public var automountServiceAccountToken: Bool?
    /// The node the pod is bound to.
    public var nodeName: String?
    /// Security settings for every container.
    public var securityContext: PodSecurityContext?
    /// How long the pod may run before it is failed.
    public var activeDeadlineSeconds: Int64?
    /// How long to wait after SIGTERM before SIGKILL.
    public var terminationGracePeriodSeconds: Int64?

    /// A spec running `containers`.
    public init(containers: [Container] = [], restartPolicy: String? = nil) {
        self.containers = containers
        self.restartPolicy = restartPolicy
    }
}

/// One container of a pod.
public struct Container: Sendable, Hashable, Codable {
    /// The name, unique within the pod.
    public var name: String
    /// The image reference.
    public var image: String?
    /// `Always`, `IfNotPresent` or `Never`.
    public var imagePullPolicy: String?
    /// Replaces the image's entrypoint.
    public var command: [String]?
    /// Replaces the image's arguments.
    public var args: [String]?
    /// The working directory.
    public var workingDir: String?
    /// Environment variables.
    public var env: [EnvVar]?
    /// Requests and limits of CPU, memory and other resources.
    public var resources: ResourceRequirements?
    /// Security settings for this container.
    public var securityContext: SecurityContext?

    /// A container from its name, image and command.
    public init(name: String, image: String? = nil, command: [String]? = nil, args: [String]? = nil) {
        self.name = name
        self.image = image
        self.command = command
        self.args = args
    }
}

/// One environment variable. `valueFrom` (secret and field references) is kept as raw JSON.
public struct EnvVar: Sendable, Hashable, Codable {
    /// The variable's name.
    public var name: String
    /// A literal value.
    public var value: String?
    /// Where to read the value from, when not literal.
    public var valueFrom: JSONValue?

    /// A variable with a literal value.
    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }
}

/// A container's resource `requests` (what scheduling and quota count) and `limits` (what it may use).
public struct ResourceRequirements: Sendable, Hashable, Codable {
    /// The most the container may use, by resource name (`cpu`, `memory`, ...).
    public var limits: [String: Quantity]?
    /// What the container is guaranteed, by resource name.
    public var requests: [String: Quantity]?

    /// Requirements from limits and requests.
    public init(limits: [String: Quantity]? = nil, requests: [String: Quantity]? = nil) {
        self.limits = limits
        self.requests = requests
    }
}

/// A container's `securityContext`.
public struct SecurityContext: Sendable, Hashable, Codable {
    /// Linux capabilities to add and drop.
    public struct Capabilities: Sendable, Hashable, Codable {
        /// Added capabilities.
        public var add: [String]?
        /// Dropped capabilities, such as `ALL`.
        public var drop: [String]?

        /// Capabilities to add and drop.
        public init(add: [String]? = nil, drop: [String]? = nil) {
            self.add = add
            self.drop = drop
        }
    }

    /// The user id the process runs as.
    public var runAsUser: Int64?
    /// The group id the process runs as.
    public var runAsGroup: Int64?
    /// Refuse to start when the image would run as root.
    public var runAsNonRoot: Bool?
    /// Whether the process may gain more privileges than its parent.
    public var allowPrivilegeEscalation: Bool?
    /// Whether the root filesystem is read-only.
    public var readOnlyRootFilesystem: Bool?
    /// Whether the container is privileged.
    public var privileged: Bool?
    /// Capabilities to add and drop.
    public var capabilities: Capabilities?

    /// An empty security context.
    public init() {}
}

/// A pod's `securityContext`, applying to all its containers.
public struct PodSecurityContext: Sendable, Hashable, Codable {
    /// A seccomp profile, such as `{"type": "RuntimeDefault"}`.
    public struct SeccompProfile: Sendable, Hashable, Codable {
        /// `RuntimeDefault`, `Localhost` or `Unconfined`.
        public var type: String

        /// A profile of `type`.
        public init(type: String) {
            self.type = type
        }
    }

    /// The user id processes run as.
    public var runAsUser: Int64?
    /// The group id processes run as.
    public var runAsGroup: Int64?
    /// Refuse to start containers that would run as root.
    public var runAsNonRoot: Bool?
    /// The group that owns mounted volumes.
    public var fsGroup: Int64?
    /// The seccomp profile.
    public var seccompProfile: SeccompProfile?

    /// An empty pod security context.
    public init() {}
}

/// A pod's lifecycle phase. Unknown phases from newer servers are kept as they are.
public struct PodPhase: RawRepresentable, Sendable, Hashable, Codable {
    /// The phase's name.
    public var rawValue: String

    /// A phase from its name.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// Accepted, not all containers started.
    public static let pending = PodPhase(rawValue: "Pending")
    /// Bound to a node, at least one container running.
    public static let running = PodPhase(rawValue: "Running")
    /// All containers exited 0 and will not restart.
    public static let succeeded = PodPhase(rawValue: "Succeeded")
    /// All containers exited, at least one not 0.
    public static let failed = PodPhase(rawValue: "Failed")
    /// The state could not be obtained.
    public static let unknown = PodPhase(rawValue: "Unknown")

    /// True for `Succeeded` and `Failed`, which quota no longer counts.
    public var isTerminal: Bool { self == .succeeded || self == .failed }
}

/// A Pod's `status`.
public struct PodStatus: Sendable, Hashable, Codable {
    /// The phase.
    public var phase: PodPhase?
    /// A machine-readable reason for the phase, such as `DeadlineExceeded`.
    public var reason: String?
    /// A human-readable message for the phase.
    public var message: String?
    /// When the kubelet accepted the pod.
    public var startTime: KubernetesTime?
    /// The pod's IP address.
    public var podIP: String?
    /// One entry per container.
    public var containerStatuses: [ContainerStatus]?
    /// One entry per init container.
    public var initContainerStatuses: [ContainerStatus]?

    /// A status in `phase`.
    public init(phase: PodPhase? = nil) {
        self.phase = phase
    }
}

/// One container's status.
public struct ContainerStatus: Sendable, Hashable, Codable {
    /// The container's name.
    public var name: String
    /// Whether it passes its readiness probe.
    public var ready: Bool?
    /// How many times it restarted.
    public var restartCount: Int32?
    /// The image it runs.
    public var image: String?
    /// Its current state.
    public var state: ContainerState?
    /// Its previous state, after a restart.
    public var lastState: ContainerState?
    /// Whether it has started.
    public var started: Bool?

    /// The status of the container `name`.
    public init(name: String, state: ContainerState? = nil) {
        self.name = name
        self.state = state
    }
}

/// A container's state: at most one of waiting, running and terminated is set.
public struct ContainerState: Sendable, Hashable, Codable {
    /// Not yet running.
    public struct Waiting: Sendable, Hashable, Codable {
        /// Why, such as `ContainerCreating` or `ImagePullBackOff`.
        public var reason: String?
        /// Details.
        public var message: String?

        /// A waiting state.
        public init(reason: String? = nil, message: String? = nil) {
            self.reason = reason
            self.message = message
        }
    }

    /// Running.
    public struct Running: Sendable, Hashable, Codable {
        /// When it started.
        public var startedAt: KubernetesTime?

        /// A running state since `startedAt`.
        public init(startedAt: KubernetesTime? = nil) {
            self.startedAt = startedAt
        }
    }

    /// Exited.
    public struct Terminated: Sendable, Hashable, Codable {
        /// The exit code.
        public var exitCode: Int32
        /// The signal that ended it, if any.
        public var signal: Int32?
        /// Why, such as `Completed`, `Error` or `OOMKilled`.
        public var reason: String?
        /// Details.
        public var message: String?
        /// When it started.
        public var startedAt: KubernetesTime?
        /// When it exited.
        public var finishedAt: KubernetesTime?

        /// A terminated state.
        public init(
            exitCode: Int32, reason: String? = nil, startedAt: KubernetesTime? = nil,
            finishedAt: KubernetesTime? = nil
        ) {
            self.exitCode = exitCode
            self.reason = reason
            self.startedAt = startedAt
            self.finishedAt = finishedAt
        }
    }

    /// Set while waiting.
    public var waiting: Waiting?
    /// Set while running.
    public var running: Running?
    /// Set once exited.
    public var terminated: Terminated?

    /// A state with one of its cases set.
    public init(waiting: Waiting? = nil, running: Running? = nil, terminated: Terminated? = nil) {
        self.waiting = waiting
        self.running = running
        self.terminated = terminated
    }
}

/// The pod a Job (or other controller) makes: metadata plus a spec.
public struct PodTemplateSpec: Sendable, Hashable, Codable {
    /// Labels and annotations for the pods.
    public var metadata: ObjectMeta?
    /// The pods' spec.
    public var spec: PodSpec?

    /// A template from metadata and a spec.
    public init(metadata: ObjectMeta? = nil, spec: PodSpec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }
}

import Dispatch
import Foundation
import Glibc
import Kubernetes
import Logging
import SQLite
import Synchronization

/// The one node of the local cluster, standing in for a kubelet: runs each new pod's containers as local
/// processes (images resolved through the `ImageMap`), captures their output, and reports the pod's phase
/// and container states back through the registry.
///
/// Pod lifecycle, as a state machine per pod: `pending` (accepted, not started) → `running` (processes
/// alive) → `finished` (every container exited; Succeeded when all exited 0, else Failed). A pod deleted
/// while running is killed (SIGTERM to its process group, SIGKILL after the grace period) and not reported.
/// All work happens on one serial queue, so a pod's Running report always precedes its exit report.
final class LocalNode: Sendable {
    /// The node name pods are bound to.
    static let nodeName = "local-node"

    /// One container's process.
    private struct ContainerRun {
        var pid: pid_t
        var startedAt: KubernetesTime
        var terminated: ContainerState.Terminated?
    }

    /// A pod whose processes this node started.
    private struct PodRun {
        var namespace: String
        var name: String
        var containers: [String: ContainerRun]
        /// Set when the node itself ended the pod (its `activeDeadlineSeconds` passed).
        var failureReason: (reason: String, message: String)?
    }

    private struct State {
        /// Pods started by this node and not yet reported finished, by uid.
        var runs: [String: PodRun] = [:]
        /// Pods this node has already taken (started or reported unstartable), by uid.
        var taken: Set<String> = []
        var stopping = false
        var subscription: Int?
    }

    let registry: Registry
    let logs: LogStore
    let images: ImageMap
    let logger: Logger
    /// The address written into pods' `KUBERNETES_SERVICE_HOST`/`PORT`.
    let apiAddress: Mutex<(host: String, port: UInt16)>
    /// The longest a stop waits between SIGTERM and SIGKILL.
    let stopGracePeriod: Duration
    private let queue = DispatchQueue(label: "local-cluster.node")
    private let state = Mutex(State())

    init(registry: Registry, logs: LogStore, images: ImageMap, logger: Logger, stopGracePeriod: Duration = .seconds(2))
    {
        self.registry = registry
        self.logs = logs
        self.images = images
        self.logger = logger
        self.stopGracePeriod = stopGracePeriod
        self.apiAddress = Mutex(("127.0.0.1", 0))
    }

    // MARK: - Start and stop

    /// Marks pods that were running when the cluster last stopped as Failed and kills what is left of their
    /// processes. Run once at start, before `start()`.
    func recoverAfterRestart() throws {
        let database = registry.store.database
        for row in try database.query("SELECT pid FROM processes") {
            ProcessSpawner.signalGroup(pid_t(try row.int64("pid")), SIGKILL)
        }
        try database.run("DELETE FROM processes")
        let pods = try registry.list(.pods, namespace: nil).items
        let now = KubernetesTime(registry.store.clock.now)
        for pod in pods where pod.raw.value(atPath: "status.phase")?.stringValue == "Running" {
            try registry.mutate(.pods, namespace: pod.namespace, name: pod.name) { pod in
                pod.raw.modify("status") { status in
                    status.set("phase", "Failed")
                    status.set("reason", "LocalClusterRestarted")
                    status.set(
                        "message",
                        "The local cluster restarted while this pod was running; its processes were stopped")
                    let containers = (status["containerStatuses"]?.arrayValue ?? []).map { container -> JSONValue in
                        var container = container
                        let startedAt = container.value(atPath: "state.running.startedAt") ?? .string(now.description)
                        container.set("ready", .bool(false))
                        container.set("started", .bool(false))
                        container.set(
                            "state",
                            .object([
                                "terminated": .object([
                                    "exitCode": .integer(137), "reason": "LocalClusterRestarted",
                                    "message": "the local cluster restarted while the container ran",
                                    "startedAt": startedAt, "finishedAt": .string(now.description),
                                ])
                            ]))
                        return container
                    }
                    status.set("containerStatuses", .array(containers))
                    status.set("conditions", Self.conditions(ready: false, now: now))
                }
            }
            logger.info("pod failed by restart", ["namespace": pod.namespace, "pod": pod.name])
        }
    }

    /// Starts watching for pods and takes the pending ones already stored.
    func start() throws {
        let subscriber = WatchHub.Subscriber(type: .pods) { [weak self] event in
            self?.podChanged(event)
        }
        let id = try registry.store.hub.subscribe(subscriber)
        state.withLock { $0.subscription = id }
        for pod in try registry.list(.pods, namespace: nil).items {
            queue.async { self.startIfPending(pod.namespace, pod.name) }
        }
    }

    /// Stops every process: SIGTERM to each group, SIGKILL to what is left after the grace period. Pods stay
    /// as stored; the next start marks the running ones Failed.
    func stop() async {
        let (pids, subscription) = state.withLock { state -> ([pid_t], Int?) in
            state.stopping = true
            return (state.runs.values.flatMap { $0.containers.values.map(\.pid) }, state.subscription)
        }
        if let subscription { registry.store.hub.unsubscribe(subscription) }
        for pid in pids { ProcessSpawner.signalGroup(pid, SIGTERM) }
        let deadline = ContinuousClock.now + stopGracePeriod
        while ContinuousClock.now < deadline, pids.contains(where: { kill($0, 0) == 0 }) {
            try? await Task.sleep(for: .milliseconds(20))
            // Exited children become zombies until their watcher reaps them; those count as gone.
            if state.withLock({ $0.runs.isEmpty }) { break }
        }
        for pid in pids { ProcessSpawner.signalGroup(pid, SIGKILL) }
        // Let the drain queue settle so nothing writes after stop returns.
        await withCheckedContinuation { continuation in queue.async { continuation.resume() } }
    }

    // MARK: - Events

    /// Called by the hub under its lock: only hands work to the queue.
    private func podChanged(_ event: ChangeEvent) {
        let pod = event.object
        switch event.kind {
        case .added:
            queue.async { self.startIfPending(pod.namespace, pod.name) }
        case .deleted:
            queue.async { self.podDeleted(uid: pod.uid) }
        case .modified:
            break
        }
    }

    private func podDeleted(uid: String) {
        let run = state.withLock { state -> PodRun? in
            state.taken.remove(uid)
            return state.runs.removeValue(forKey: uid)
        }
        logs.remove(podUID: uid)
        guard let run else { return }
        let pids = run.containers.values.map(\.pid)
        for pid in pids { ProcessSpawner.signalGroup(pid, SIGTERM) }
        queue.asyncAfter(deadline: .now() + .milliseconds(Int(stopGracePeriod.components.seconds * 1000))) {
            for pid in pids { ProcessSpawner.signalGroup(pid, SIGKILL) }
        }
        logger.info("pod killed", ["namespace": run.namespace, "pod": run.name, "reason": "deleted"])
    }

    // MARK: - Running a pod

    private func startIfPending(_ namespace: String, _ name: String) {
        guard let object = try? registry.get(.pods, namespace: namespace, name: name),
            object.raw.value(atPath: "status.phase")?.stringValue == "Pending",
            // Not started yet: no container status, or only waiting ones (an image missing from an earlier map).
            (object.raw.value(atPath: "status.containerStatuses")?.arrayValue ?? []).allSatisfy({
                $0.value(atPath: "state.waiting") != nil
            }),
            let pod = try? object.decoded(as: Pod.self), let spec = pod.spec
        else { return }
        let uid = object.uid
        let claimed = state.withLock { state -> Bool in
            guard !state.stopping, !state.taken.contains(uid) else { return false }
            state.taken.insert(uid)
            return true
        }
        guard claimed else { return }

        // 1. Resolve every container's image before starting any.
        var plans: [(container: Container, argv: [String], environment: [String: String])] = []
        for container in spec.containers {
            guard let image = images.image(for: container.image ?? "") else {
                reportUnstartable(object, container: container.name, image: container.image ?? "")
                return
            }
            plans.append(
                (container, ImageMap.argv(image: image, container: container), environment(image, container, object)))
        }

        // 2. Start the processes and report Running.
        let now = KubernetesTime(registry.store.clock.now)
        var run = PodRun(namespace: namespace, name: name, containers: [:])
        var failures: [String: String] = [:]
        for plan in plans {
            do {
                let spawned = try ProcessSpawner.spawn(
                    argv: plan.argv, environment: plan.environment, workingDirectory: plan.container.workingDir)
                run.containers[plan.container.name] = ContainerRun(pid: spawned.pid, startedAt: now)
                _ = try? registry.store.database.run(
                    "INSERT OR REPLACE INTO processes (pod_uid, container, pid) VALUES (?, ?, ?)",
                    [.text(uid), .text(plan.container.name), .integer(Int64(spawned.pid))])
                logs.open(podUID: uid, container: plan.container.name)
                watch(spawned, podUID: uid, container: plan.container.name)
            } catch {
                failures[plan.container.name] = error.message
                var failed = ContainerRun(pid: 0, startedAt: now)
                failed.terminated = ContainerState.Terminated(
                    exitCode: 128, reason: "StartError", startedAt: now, finishedAt: now)
                failed.terminated?.message = error.message
                run.containers[plan.container.name] = failed
            }
        }
        state.withLock { $0.runs[uid] = run }
        reportRunning(object, run: run, now: now)
        logger.info("pod running", ["namespace": namespace, "pod": name, "containers": plans.count])
        for (container, message) in failures {
            logger.warning("container failed to start", ["pod": name, "container": container, "error": message])
        }
        if let deadline = spec.activeDeadlineSeconds {
            queue.asyncAfter(deadline: .now() + .seconds(Int(deadline))) {
                self.deadlinePassed(uid: uid, seconds: deadline)
            }
        }
        if run.containers.values.allSatisfy({ $0.terminated != nil }) { finish(uid: uid) }
    }

    /// Reads the process's output into the log store on a thread of its own, then reaps it and reports.
    private func watch(_ spawned: ProcessSpawner.Spawned, podUID: String, container: String) {
        let logs = self.logs
        let thread = Thread {
            ProcessSpawner.drain(spawned.output) { logs.append(podUID: podUID, container: container, bytes: $0) }
            let (exitCode, signal) = ProcessSpawner.wait(spawned.pid)
            logs.close(podUID: podUID, container: container)
            self.queue.async {
                self.containerExited(uid: podUID, container: container, exitCode: exitCode, signal: signal)
            }
        }
        thread.stackSize = 256 << 10
        thread.start()
    }

    private func containerExited(uid: String, container: String, exitCode: Int32, signal: Int32?) {
        let now = KubernetesTime(registry.store.clock.now)
        let done = state.withLock { state -> Bool in
            guard var run = state.runs[uid], var process = run.containers[container] else { return false }
            var terminated = ContainerState.Terminated(
                exitCode: exitCode, reason: exitCode == 0 ? "Completed" : "Error", startedAt: process.startedAt,
                finishedAt: now)
            terminated.signal = signal
            process.terminated = terminated
            run.containers[container] = process
            state.runs[uid] = run
            return run.containers.values.allSatisfy { $0.terminated != nil }
        }
        _ = try? registry.store.database.run(
            "DELETE FROM processes WHERE pod_uid = ? AND container = ?", [.text(uid), .text(container)])
        if done { finish(uid: uid) }
    }

    private func deadlinePassed(uid: String, seconds: Int64) {
        let pids = state.withLock { state -> [pid_t] in
            guard var run = state.runs[uid] else { return [] }
            run.failureReason = ("DeadlineExceeded", "Pod was active on the node longer than the specified deadline")
            state.runs[uid] = run
            return run.containers.values.filter { $0.terminated == nil }.map(\.pid)
        }
        for pid in pids { ProcessSpawner.signalGroup(pid, SIGKILL) }
    }

    /// Reports the pod's final phase once every container has exited.
    private func finish(uid: String) {
        let run = state.withLock { state -> PodRun? in
            guard !state.stopping else { return nil }
            return state.runs.removeValue(forKey: uid)
        }
        guard let run else { return }
        let now = KubernetesTime(registry.store.clock.now)
        let succeeded = run.failureReason == nil && run.containers.values.allSatisfy { $0.terminated?.exitCode == 0 }
        let phase = succeeded ? "Succeeded" : "Failed"
        _ = try? registry.mutate(.pods, namespace: run.namespace, name: run.name) { pod in
            guard pod.uid == uid else { return }
            let image = Self.images(of: pod)
            pod.raw.modify("status") { status in
                status.set("phase", .string(phase))
                if let failure = run.failureReason {
                    status.set("reason", .string(failure.reason))
                    status.set("message", .string(failure.message))
                }
                status.set("conditions", Self.conditions(ready: false, now: now))
                let containers = run.containers.sorted { $0.key < $1.key }.map { name, process -> JSONValue in
                    let terminated = process.terminated ?? ContainerState.Terminated(exitCode: 137, reason: "Error")
                    return Self.containerStatus(
                        name: name, image: image[name] ?? "", pid: process.pid,
                        state: ContainerState(terminated: terminated), ready: false)
                }
                status.set("containerStatuses", .array(containers))
            }
        }
        logger.info("pod finished", ["namespace": run.namespace, "pod": run.name, "phase": phase])
    }

    // MARK: - Status reports

    private func reportRunning(_ object: KubernetesObject, run: PodRun, now: KubernetesTime) {
        let uid = object.uid
        _ = try? registry.mutate(.pods, namespace: object.namespace, name: object.name) { pod in
            guard pod.uid == uid else { return }
            let image = Self.images(of: pod)
            pod.raw.modify("status") { status in
                status.set("phase", "Running")
                status.set("startTime", .string(now.description))
                status.set("hostIP", "127.0.0.1")
                status.set("podIP", "127.0.0.1")
                status.set("podIPs", .array([.object(["ip": "127.0.0.1"])]))
                status.set("conditions", Self.conditions(ready: true, now: now))
                let containers = run.containers.sorted { $0.key < $1.key }.map { name, process -> JSONValue in
                    Self.containerStatus(
                        name: name, image: image[name] ?? "", pid: process.pid,
                        state: ContainerState(running: ContainerState.Running(startedAt: process.startedAt)),
                        ready: true)
                }
                status.set("containerStatuses", .array(containers))
            }
        }
    }

    private func reportUnstartable(_ object: KubernetesObject, container: String, image: String) {
        let message = "image \(image) is not in the local cluster's image map; add it to the --images file"
        let uid = object.uid
        _ = try? registry.mutate(.pods, namespace: object.namespace, name: object.name) { pod in
            guard pod.uid == uid else { return }
            pod.raw.modify("status") { status in
                status.set(
                    "containerStatuses",
                    .array([
                        Self.containerStatus(
                            name: container, image: image, pid: 0,
                            state: ContainerState(
                                waiting: ContainerState.Waiting(reason: "ErrImagePull", message: message)),
                            ready: false)
                    ]))
            }
        }
        registry.recordEvent(about: object, type: .pods, eventType: "Warning", reason: "Failed", message: message)
        logger.warning("pod not startable", ["namespace": object.namespace, "pod": object.name, "image": image])
    }

    private static func containerStatus(name: String, image: String, pid: pid_t, state: ContainerState, ready: Bool)
        -> JSONValue
    {
        let stateValue = (try? JSONValue(encoding: state)) ?? .object([:])
        return .object([
            "name": .string(name), "image": .string(image), "imageID": .string("local://\(image)"),
            "containerID": .string("local://\(pid)"), "ready": .bool(ready), "started": .bool(ready),
            "restartCount": .integer(0), "state": stateValue,
        ])
    }

    private static func conditions(ready: Bool, now: KubernetesTime) -> JSONValue {
        .array(
            [("PodScheduled", true), ("Initialized", true), ("ContainersReady", ready), ("Ready", ready)].map {
                .object([
                    "type": .string($0.0), "status": .string($0.1 ? "True" : "False"),
                    "lastTransitionTime": .string(now.description),
                ])
            })
    }

    private static func images(of pod: KubernetesObject) -> [String: String] {
        var images: [String: String] = [:]
        for container in pod.raw.value(atPath: "spec.containers")?.arrayValue ?? [] {
            if let name = container["name"]?.stringValue { images[name] = container["image"]?.stringValue ?? "" }
        }
        return images
    }

    /// The process environment: a base PATH, the cluster's address, the image's extras, then the container's
    /// `env` (literal values and the pod's own name and namespace through `fieldRef`).
    private func environment(_ image: ImageMap.Image, _ container: Container, _ pod: KubernetesObject) -> [String:
        String]
    {
        let address = apiAddress.withLock { $0 }
        var environment: [String: String] = [
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": NSTemporaryDirectory(),
            "HOSTNAME": pod.name, "KUBERNETES_SERVICE_HOST": address.host,
            "KUBERNETES_SERVICE_PORT": String(address.port),
        ]
        environment.merge(image.env) { $1 }
        for variable in container.env ?? [] {
            if let value = variable.value {
                environment[variable.name] = value
            } else if let path = variable.valueFrom?.value(atPath: "fieldRef.fieldPath")?.stringValue,
                let value = pod.raw.value(atPath: path)?.stringValue
            {
                environment[variable.name] = value
            }
        }
        return environment
    }
}

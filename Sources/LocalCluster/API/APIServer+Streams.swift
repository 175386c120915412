import Foundation
import HTTPServer
import Kubernetes

extension APIServer {
    // MARK: - Watch

    /// A watch stream: one `{"type":...,"object":...}` line per change after the requested resource version
    /// (or, with none or `0`, every current object as ADDED first), until the client leaves, the server stops
    /// or `timeoutSeconds` pass. A version older than the history holds gets one ERROR event carrying a 410
    /// Expired Status, as the API server sends it, and the stream ends.
    func watch(
        _ request: HTTPRequest, type: ResourceType, namespace: String?, labels: LabelSelectorQuery,
        fields: FieldSelectorQuery
    ) throws(Status) -> HTTPResponse {
        let asTable = (request.headers["Accept"] ?? "").contains("as=Table")
        let clock = registry.store.clock
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        let selects: @Sendable (KubernetesObject) -> Bool = { object in
            (namespace == nil || object.namespace == namespace) && labels.matches(object.labels)
                && fields.matches(object.raw)
        }
        let encode: @Sendable (String, KubernetesObject) -> [UInt8] = { kind, object in
            let shown =
                asTable
                ? TableConverter.table(type, objects: [object], resourceVersion: object.resourceVersion, now: clock.now)
                : object.raw
            let line = JSONValue.object(["type": .string(kind), "object": shown])
            return JSONCodec.serialize(line) + [10]
        }

        // 1. Where to start: after the given version, or after a fresh list sent as ADDED events.
        let requested = request.queryValue("resourceVersion") ?? ""
        var after: Int64
        if requested.isEmpty || requested == "0" {
            let (items, version) = try registry.list(type, namespace: namespace, labels: labels, fields: fields)
            for item in items { continuation.yield(encode("ADDED", item)) }
            after = version
        } else {
            guard let version = Int64(requested) else {
                throw Status.badRequest("resourceVersion \(requested) is not a number this server issued")
            }
            after = version
        }

        // 2. Subscribe, replaying the history after `after`.
        let hub = registry.store.hub
        let subscriber = WatchHub.Subscriber(type: type) { event in
            guard selects(event.object) else { return }
            continuation.yield(encode(event.kind.rawValue, event.object))
        }
        do {
            let id = try hub.subscribe(subscriber, after: after)
            continuation.onTermination = { _ in hub.unsubscribe(id) }
        } catch {
            let status = Status.expired(requested: error.requested, oldest: error.oldest)
            let object = (try? JSONValue(encoding: status)) ?? .object([:])
            let line = JSONValue.object(["type": "ERROR", "object": object])
            continuation.yield(JSONCodec.serialize(line) + [10])
            continuation.finish()
        }

        // 3. A watch with a timeout ends by itself.
        if let timeout = request.queryValue("timeoutSeconds").flatMap(Int.init), timeout > 0 {
            Task {
                try? await Task.sleep(for: .seconds(timeout))
                continuation.finish()
            }
        }
        return .stream(stream, contentType: "application/json")
    }

    // MARK: - Logs

    /// `pods/NAME/log`: the container's output, optionally its last `tailLines` lines, optionally followed.
    func podLog(_ request: HTTPRequest, namespace: String, name: String) throws(Status) -> HTTPResponse {
        let pod = try registry.get(.pods, namespace: namespace, name: name)
        let containers = (pod.raw.value(atPath: "spec.containers")?.arrayValue ?? []).compactMap {
            $0["name"]?.stringValue
        }
        let container: String
        if let asked = request.queryValue("container"), !asked.isEmpty {
            guard containers.contains(asked) else {
                throw Status.badRequest("container \(asked) is not valid for pod \(name)")
            }
            container = asked
        } else if containers.count == 1 {
            container = containers[0]
        } else {
            throw Status.badRequest(
                "a container name must be specified for pod \(name), choose one of: [\(containers.joined(separator: " "))]"
            )
        }
        let statuses = pod.raw.value(atPath: "status.containerStatuses")?.arrayValue ?? []
        let state = statuses.first { $0["name"]?.stringValue == container }?["state"]
        if state == nil || state?["waiting"] != nil {
            let reason = state?.value(atPath: "waiting.reason")?.stringValue ?? "ContainerCreating"
            throw Status.badRequest("container \"\(container)\" in pod \"\(name)\" is waiting to start: \(reason)")
        }

        let tail = request.queryValue("tailLines").flatMap(Int.init)
        let transform: @Sendable ([UInt8]) -> [UInt8] = { bytes in
            tail.map { Self.lastLines(bytes, count: $0) } ?? bytes
        }
        if ["1", "true"].contains(request.queryValue("follow") ?? "") {
            let stream = logs.follow(podUID: pod.uid, container: container, transform: transform)
            return .stream(stream, contentType: "text/plain")
        }
        let bytes: [UInt8]
        do {
            bytes = try logs.read(podUID: pod.uid, container: container)
        } catch {
            throw Status.internalError("the log of pod \(name) could not be read: \(error)")
        }
        return HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain"], body: .bytes(transform(bytes)))
    }

    /// The last `count` lines of `bytes` (a final line without a newline counts).
    static func lastLines(_ bytes: [UInt8], count: Int) -> [UInt8] {
        guard count >= 0 else { return bytes }
        if count == 0 { return [] }
        var newlines = 0
        var index = bytes.endIndex
        if bytes.last == 10 { index -= 1 }
        while index > bytes.startIndex {
            if bytes[index - 1] == 10 {
                newlines += 1
                if newlines == count { return Array(bytes[index...]) }
            }
            index -= 1
        }
        return bytes
    }
}

import Digests
import Foundation
import Kubernetes
import Logging

/// The API's storage logic, shared by the HTTP handlers, the Job controller and the node: create with
/// defaults, validation and admission; read; update; delete with propagation. Authorization happens before
/// a request reaches here; everything here is what the API server does after it.
final class Registry: Sendable {
    /// How a deletion treats the object's dependents (a Job's pods).
    enum Propagation: String, Sendable {
        case background = "Background"
        case foreground = "Foreground"
        case orphan = "Orphan"
    }

    let store: ObjectStore
    let logger: Logger
    /// Called after a ServiceAccount is created, outside the transaction, to issue its token.
    private let serviceAccountCreated: @Sendable (String, String) -> Void

    init(store: ObjectStore, logger: Logger, serviceAccountCreated: @escaping @Sendable (String, String) -> Void) {
        self.store = store
        self.logger = logger
        self.serviceAccountCreated = serviceAccountCreated
    }

    /// The alphabet Kubernetes draws generated name suffixes from: no vowels, no look-alike characters.
    private static let suffixAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    /// A random five-character suffix for `generateName`.
    static func randomSuffix() -> String {
        String((0..<5).map { _ in suffixAlphabet[Int.random(in: 0..<suffixAlphabet.count)] })
    }

    // MARK: - Create

    /// Creates `body` as a new `type` object in `namespace` (empty for cluster-scoped resources).
    ///
    /// - Throws: `Status`: BadRequest, Invalid, NotFound (namespace), AlreadyExists, Forbidden (quota or
    ///   limits).
    func create(_ type: ResourceType, namespace: String, body: JSONValue) throws(Status) -> KubernetesObject {
        // 1. Shape: an object of the right kind, in the request's namespace.
        guard case .object = body else { throw Status.badRequest("the body of the request is not a JSON object") }
        var object = KubernetesObject(raw: body)
        if let kind = body["kind"]?.stringValue, kind != type.kind {
            throw Status.badRequest(
                "the kind \"\(kind)\" of the body does not match the resource \(type.qualifiedName)")
        }
        let bodyNamespace = object.namespace
        if type.namespaced {
            if !bodyNamespace.isEmpty && bodyNamespace != namespace {
                throw Status.badRequest(
                    "the namespace of the provided object does not match the namespace sent on the request")
            }
            object.raw.setMetadata("namespace", .string(namespace))
        } else {
            object.raw.setMetadata("namespace", nil)
        }

        // 2. The name, generated when only a prefix was given.
        let generateName = body.value(atPath: "metadata.generateName")?.stringValue ?? ""
        if object.name.isEmpty {
            guard !generateName.isEmpty else {
                throw ObjectValidation.invalidStatus(
                    type, name: "",
                    causes: [ObjectValidation.required("metadata.name", detail: "name or generateName is required")])
            }
            object.raw.setMetadata("name", .string(generateName + Self.randomSuffix()))
        }

        // 3. Server-owned fields and defaults, then validation.
        for field in ["resourceVersion", "creationTimestamp", "deletionTimestamp"] {
            object.raw.setMetadata(field, nil)
        }
        object.raw.setMetadata("uid", .string(UUID().uuidString.lowercased()))
        ObjectDefaults.prepareForCreate(type, &object)
        let causes = ObjectValidation.validate(type, object)
        if !causes.isEmpty { throw ObjectValidation.invalidStatus(type, name: object.name, causes: causes) }

        // 4. Admission and the write, in one transaction.
        let prepared = object
        let created = try writing { transaction in
            var object = prepared
            if type.namespaced, try transaction.get(.namespaces, namespace: "", name: namespace) == nil {
                throw Status.notFound(resource: "namespaces", group: "", name: namespace)
            }
            if !generateName.isEmpty {
                // A generated name that collides is retried, as the API server's name generator would be.
                while try transaction.get(type, namespace: namespace, name: object.name) != nil {
                    object.raw.setMetadata("name", .string(generateName + Self.randomSuffix()))
                }
            }
            try QuotaAdmission.admit(type, &object, transaction: transaction)
            let stored = try transaction.insert(type, object)
            if type == .namespaces {
                var account = try KubernetesObject(ServiceAccount(name: "default", namespace: stored.name))
                ObjectDefaults.prepareForCreate(.serviceAccounts, &account)
                _ = try transaction.insert(.serviceAccounts, account)
            }
            if type.namespaced { try QuotaAdmission.refreshStatus(namespace: namespace, transaction: transaction) }
            return stored
        }
        if type == .serviceAccounts { serviceAccountCreated(namespace, created.name) }
        if type == .namespaces { serviceAccountCreated(created.name, "default") }
        return created
    }

    // MARK: - Read

    /// The object, or NotFound.
    func get(_ type: ResourceType, namespace: String, name: String) throws(Status) -> KubernetesObject {
        let found = try reading { try $0.get(type, namespace: namespace, name: name) }
        guard let found else { throw Status.notFound(resource: type.resource, group: type.group, name: name) }
        return found
    }

    /// The objects of `type` in `namespace` (all when nil) that the selectors select, and the collection's
    /// resource version.
    func list(
        _ type: ResourceType, namespace: String?, labels: LabelSelectorQuery? = nil, fields: FieldSelectorQuery? = nil
    ) throws(Status) -> (items: [KubernetesObject], resourceVersion: Int64) {
        try reading { transaction in
            let items = try transaction.list(type, namespace: namespace).filter { object in
                (labels?.matches(object.labels) ?? true) && (fields?.matches(object.raw) ?? true)
            }
            return (items, try transaction.currentResourceVersion())
        }
    }

    /// The pods a Job owns.
    func pods(ownedBy uid: String) throws(Status) -> [KubernetesObject] {
        try reading { try $0.listOwned(.pods, ownerUID: uid) }
    }

    // MARK: - Update

    /// Replaces an object (PUT). The stored status is kept unless `subresource` is `status`, in which case
    /// only the status changes.
    ///
    /// - Throws: `Status` NotFound, Conflict (stale resourceVersion), BadRequest (name mismatch).
    func replace(_ type: ResourceType, namespace: String, name: String, body: JSONValue, subresource: String?)
        throws(Status) -> KubernetesObject
    {
        guard case .object = body else { throw Status.badRequest("the body of the request is not a JSON object") }
        let bodyName = body.value(atPath: "metadata.name")?.stringValue ?? name
        guard bodyName == name else {
            throw Status.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        let expectedVersion = body.value(atPath: "metadata.resourceVersion")?.stringValue.flatMap { Int64($0) }
        return try mutate(type, namespace: namespace, name: name, expectedVersion: expectedVersion) { stored in
            var next = body
            if subresource == "status" {
                next = stored.raw
                next.set("status", body["status"])
            } else {
                next.set("status", stored.raw["status"])
            }
            for field in ["uid", "creationTimestamp", "namespace", "name", "deletionTimestamp"] {
                next.setMetadata(field, stored.raw.value(atPath: "metadata.\(field)"))
            }
            next.set("apiVersion", .string(type.groupVersion))
            next.set("kind", .string(type.kind))
            stored.raw = next
        }
    }

    /// Applies a JSON merge patch (strategic merge patches are treated as merge patches).
    func patch(_ type: ResourceType, namespace: String, name: String, patch: JSONValue, subresource: String?)
        throws(Status) -> KubernetesObject
    {
        try mutate(type, namespace: namespace, name: name) { stored in
            let before = stored.raw
            stored.applyMergePatch(patch)
            if subresource == "status" {
                var kept = before
                kept.set("status", stored.raw["status"])
                stored.raw = kept
            }
            for field in ["uid", "creationTimestamp", "namespace", "name"] {
                stored.raw.setMetadata(field, before.value(atPath: "metadata.\(field)"))
            }
        }
    }

    /// Reads, changes and writes back one object in one transaction; the change may throw to abort.
    @discardableResult
    func mutate(
        _ type: ResourceType, namespace: String, name: String, expectedVersion: Int64? = nil,
        _ change: @escaping (inout KubernetesObject) throws -> Void
    ) throws(Status) -> KubernetesObject {
        try writing { transaction in
            guard var object = try transaction.get(type, namespace: namespace, name: name) else {
                throw Status.notFound(resource: type.resource, group: type.group, name: name)
            }
            if let expectedVersion, expectedVersion != object.resourceVersion {
                throw Status.conflict(type: type, name: name)
            }
            let before = object.raw
            try change(&object)
            guard object.raw != before else { return object }
            let stored = try transaction.replace(type, object)
            if type == .pods || type == .resourceQuotas {
                try QuotaAdmission.refreshStatus(namespace: namespace, transaction: transaction)
            }
            return stored
        }
    }

    // MARK: - Delete

    /// Deletes an object; a Job's pods are deleted too unless `propagation` is `orphan`, and a namespace
    /// takes everything in it.
    ///
    /// - Returns: the object as it was.
    /// - Throws: `Status` NotFound.
    func delete(_ type: ResourceType, namespace: String, name: String, propagation: Propagation?) throws(Status)
        -> KubernetesObject
    {
        try writing { transaction in
            guard let object = try transaction.get(type, namespace: namespace, name: name) else {
                throw Status.notFound(resource: type.resource, group: type.group, name: name)
            }
            switch type {
            case .jobs:
                let pods = try transaction.listOwned(.pods, ownerUID: object.uid)
                // The Job API's own default, kept for compatibility, is to orphan; kubectl asks for Background.
                let policy = propagation ?? .orphan
                if policy == .foreground {
                    for pod in pods { try transaction.delete(.pods, namespace: namespace, name: pod.name) }
                }
                try transaction.delete(type, namespace: namespace, name: name)
                if policy == .background {
                    for pod in pods { try transaction.delete(.pods, namespace: namespace, name: pod.name) }
                } else if policy == .orphan {
                    for var pod in pods {
                        pod.raw.setMetadata("ownerReferences", nil)
                        _ = try transaction.replace(.pods, pod)
                    }
                }
            case .namespaces:
                for member in ResourceType.all where member.namespaced {
                    for item in try transaction.list(member, namespace: name) {
                        try transaction.delete(member, namespace: name, name: item.name)
                    }
                }
                try transaction.delete(type, namespace: "", name: name)
            default:
                try transaction.delete(type, namespace: namespace, name: name)
            }
            if type.namespaced { try QuotaAdmission.refreshStatus(namespace: namespace, transaction: transaction) }
            var deleted = object
            deleted.raw.setMetadata("deletionTimestamp", .string(KubernetesTime(transaction.now).description))
            return deleted
        }
    }

    // MARK: - Events

    /// Records an Event about `object`; a repeat of the same reason and message bumps its count.
    func recordEvent(
        about object: KubernetesObject, type: ResourceType, eventType: String, reason: String, message: String
    ) {
        let key = SHA256.hexDigest("\(object.uid)/\(reason)/\(message)").prefix(16)
        let name = "\(object.name).\(key)"
        let namespace = object.namespace
        let now = KubernetesTime(store.clock.now)
        do {
            try store.write { transaction in
                if var existing = try transaction.get(.events, namespace: namespace, name: name) {
                    let count = existing.raw["count"]?.integerValue ?? 1
                    existing.raw.set("count", .integer(count + 1))
                    existing.raw.set("lastTimestamp", .string(now.description))
                    _ = try transaction.replace(.events, existing)
                    return
                }
                var event = Event(
                    metadata: ObjectMeta(name: name, namespace: namespace),
                    involvedObject: ObjectReference(
                        apiVersion: type.groupVersion, kind: type.kind, namespace: namespace, name: object.name,
                        uid: object.uid),
                    reason: reason, message: message, type: eventType)
                event.involvedObject.resourceVersion = String(object.resourceVersion)
                event.count = 1
                event.firstTimestamp = now
                event.lastTimestamp = now
                event.source = Event.Source(component: type == .jobs ? "job-controller" : "kubelet")
                var stored = try KubernetesObject(event)
                stored.raw.set("reportingComponent", .string(type == .jobs ? "job-controller" : "kubelet"))
                stored.raw.set("reportingInstance", .string(""))
                _ = try transaction.insert(.events, stored)
            }
        } catch {
            logger.error("event not recorded", ["object": object.name, "reason": reason, "error": "\(error)"])
        }
    }

    // MARK: - Plumbing

    private func writing<Result: Sendable>(_ body: (StoreTransaction) throws -> Result) throws(Status) -> Result {
        do {
            return try store.write(body)
        } catch {
            throw Status.from(error)
        }
    }

    private func reading<Result: Sendable>(_ body: (StoreTransaction) throws -> Result) throws(Status) -> Result {
        do {
            return try store.read(body)
        } catch {
            throw Status.from(error)
        }
    }
}

import Foundation
import HTTPServer
import HTTPTypes
import Kubernetes
import Logging
import Synchronization

/// The HTTP face of the local cluster: authenticates, authorizes with RBAC, routes `/api` and `/apis` paths
/// to the registry, and renders objects, lists, Tables, watch streams, logs and Status errors.
///
/// One log line per request: `request id=N method=GET path=/api/v1/... user=... status=200 ms=1`.
final class APIServer: Sendable {
    let registry: Registry
    let credentials: Credentials
    let logs: LogStore
    let logger: Logger
    /// `host:port`, for `/api`'s `serverAddressByClientCIDRs`.
    let serverAddress: Mutex<String>
    private let requestCounter = Atomic<Int>(0)

    init(registry: Registry, credentials: Credentials, logs: LogStore, logger: Logger) {
        self.registry = registry
        self.credentials = credentials
        self.logs = logs
        self.logger = logger
        self.serverAddress = Mutex("127.0.0.1")
    }

    /// Answers one request.
    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let started = ContinuousClock.now
        let id = requestCounter.add(1, ordering: .relaxed).newValue
        var userName = "-"
        let response: HTTPResponse
        do {
            let user = try authenticate(request)
            userName = user.name
            response = try route(request, user: user)
        } catch {
            response = Self.render(Status.from(error))
        }
        let elapsed = ContinuousClock.now - started
        logger.debug(
            "request",
            [
                "id": id, "method": request.method.rawValue, "path": request.path, "user": userName,
                "status": response.status.code,
                "ms": elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000,
            ])
        return response
    }

    // MARK: - Authentication and authorization

    private func authenticate(_ request: HTTPRequest) throws(Status) -> UserInfo {
        guard let header = request.headers["Authorization"], header.hasPrefix("Bearer "),
            let user = credentials.authenticate(
                token: String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces))
        else { throw Status.unauthorized }
        return user
    }

    /// True when RBAC allows `user` to do `attributes`.
    func isAllowed(_ user: UserInfo, _ attributes: RequestAttributes) throws(Status) -> Bool {
        if user.groups.contains("system:masters") { return true }
        guard !attributes.namespace.isEmpty else { return false }
        let roles = try registry.list(.roles, namespace: attributes.namespace).items.compactMap {
            try? $0.decoded(as: Role.self)
        }
        let bindings = try registry.list(.roleBindings, namespace: attributes.namespace).items.compactMap {
            try? $0.decoded(as: RoleBinding.self)
        }
        return RBACAuthorizer.allows(user, attributes, roles: roles, bindings: bindings)
    }

    // MARK: - Routing

    private func route(_ request: HTTPRequest, user: UserInfo) throws(Status) -> HTTPResponse {
        let path = ResourcePath(request.path)
        switch path {
        case .version:
            return Self.render(Discovery.version)
        case .health:
            return .text("ok")
        case .openAPI:
            let document = request.path == "/openapi/v3" ? OpenAPI.index : OpenAPI.document(path: request.path)
            guard let document else { throw Status.pathNotFound(request.path) }
            return Self.render(document)
        case .coreVersions:
            return Self.render(Discovery.coreVersions(serverAddress: serverAddress.withLock { $0 }))
        case .groupList:
            return Self.render(Discovery.groupList)
        case .group(let name):
            guard let document = Discovery.group(name) else { throw Status.pathNotFound(request.path) }
            return Self.render(document)
        case .resourceList(let group, let version):
            guard let document = Discovery.resourceList(group: group, version: version) else {
                throw Status.pathNotFound(request.path)
            }
            return Self.render(document)
        case .unknown:
            throw Status.pathNotFound(request.path)
        case .resource(let type, let namespace, let name, let subresource):
            return try serve(
                request, user: user, type: type, namespace: namespace, name: name, subresource: subresource)
        }
    }

    private func serve(
        _ request: HTTPRequest, user: UserInfo, type: ResourceType, namespace: String, name: String,
        subresource: String
    ) throws(Status) -> HTTPResponse {
        // 1. The verb, as RBAC names it.
        let watching = ["1", "true"].contains(request.queryValue("watch") ?? "")
        let verb: String
        switch (request.method, name.isEmpty) {
        case (.get, true): verb = watching ? "watch" : "list"
        case (.get, false): verb = "get"
        case (.post, true): verb = "create"
        case (.put, false): verb = "update"
        case (.patch, false): verb = "patch"
        case (.delete, false): verb = "delete"
        case (.delete, true): verb = "deletecollection"
        default:
            throw Status.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        if !subresource.isEmpty && !type.subresources.contains(subresource) {
            throw Status.pathNotFound(request.path)
        }

        // 2. Self-reviews are open to every authenticated user; everything else goes through RBAC.
        if type == .selfSubjectAccessReviews {
            guard verb == "create" else { throw Status.methodNotAllowed("only create is served for \(type.resource)") }
            return try reviewAccess(request, user: user)
        }
        let attributes = RequestAttributes(
            verb: verb, group: type.group, resource: type.resource, subresource: subresource, namespace: namespace,
            name: name)
        guard try isAllowed(user, attributes) else { throw attributes.forbidden(user: user.name) }

        // 3. The verb itself.
        let scope: String? = type.namespaced && !namespace.isEmpty ? namespace : nil
        switch verb {
        case "list", "watch":
            let labels = try LabelSelectorQuery(request.queryValue("labelSelector") ?? "")
            let fields = try FieldSelectorQuery(request.queryValue("fieldSelector") ?? "")
            if verb == "watch" {
                return try watch(request, type: type, namespace: scope, labels: labels, fields: fields)
            }
            let (items, version) = try registry.list(type, namespace: scope, labels: labels, fields: fields)
            if wantsTable(request) {
                return Self.render(
                    TableConverter.table(type, objects: items, resourceVersion: version, now: registry.store.clock.now))
            }
            let list = JSONValue.object([
                "kind": .string(type.listKind), "apiVersion": .string(type.groupVersion),
                "metadata": .object(["resourceVersion": .string(String(version))]),
                "items": .array(items.map(\.raw)),
            ])
            return Self.render(list)
        case "get":
            if subresource == "log" { return try podLog(request, namespace: namespace, name: name) }
            let object = try registry.get(type, namespace: namespace, name: name)
            if wantsTable(request) {
                return Self.render(
                    TableConverter.table(
                        type, objects: [object], resourceVersion: object.resourceVersion, now: registry.store.clock.now)
                )
            }
            return Self.render(object.raw)
        case "create":
            if type.namespaced && namespace.isEmpty {
                throw Status.methodNotAllowed("the server does not allow this method on the requested resource")
            }
            let created = try registry.create(type, namespace: namespace, body: try Self.body(request))
            logger.info(
                "created",
                ["resource": type.qualifiedName, "namespace": namespace, "name": created.name, "user": user.name])
            return Self.render(created.raw, status: 201)
        case "update":
            let updated = try registry.replace(
                type, namespace: namespace, name: name, body: try Self.body(request),
                subresource: subresource.isEmpty ? nil : subresource)
            return Self.render(updated.raw)
        case "patch":
            let contentType = request.headers["Content-Type"] ?? ""
            guard contentType.contains("merge-patch") else {
                throw Status(
                    code: 415, reason: "UnsupportedMediaType",
                    message: "the local cluster applies merge patches only; \(contentType) is not supported")
            }
            let patched = try registry.patch(
                type, namespace: namespace, name: name, patch: try Self.body(request),
                subresource: subresource.isEmpty ? nil : subresource)
            return Self.render(patched.raw)
        case "delete":
            let options = request.body.isEmpty ? nil : try? Self.body(request)
            let policyText = request.queryValue("propagationPolicy") ?? options?["propagationPolicy"]?.stringValue
            var propagation: Registry.Propagation? = nil
            if let policyText {
                guard let policy = Registry.Propagation(rawValue: policyText) else {
                    throw Status.badRequest(
                        "propagationPolicy \(policyText) is not one of Background, Foreground, Orphan")
                }
                propagation = policy
            } else if options?["orphanDependents"] == .bool(false) {
                propagation = .background
            }
            let deleted = try registry.delete(type, namespace: namespace, name: name, propagation: propagation)
            logger.info(
                "deleted", ["resource": type.qualifiedName, "namespace": namespace, "name": name, "user": user.name])
            return Self.render(deleted.raw)
        default:
            throw Status.methodNotAllowed("deletecollection is not served by the local cluster")
        }
    }

    // MARK: - Access reviews

    private func reviewAccess(_ request: HTTPRequest, user: UserInfo) throws(Status) -> HTTPResponse {
        var review = try Self.body(request)
        let attributes = review.value(atPath: "spec.resourceAttributes")
        let asked = RequestAttributes(
            verb: attributes?["verb"]?.stringValue ?? "", group: attributes?["group"]?.stringValue ?? "",
            resource: attributes?["resource"]?.stringValue ?? "",
            subresource: attributes?["subresource"]?.stringValue ?? "",
            namespace: attributes?["namespace"]?.stringValue ?? "", name: attributes?["name"]?.stringValue ?? "")
        let allowed: Bool
        if attributes == nil {
            // A non-resource question (`can-i get /healthz`): discovery-like paths are open to everyone.
            allowed =
                user.groups.contains("system:masters")
                || review.value(atPath: "spec.nonResourceAttributes.verb") == "get"
        } else {
            allowed = try isAllowed(user, asked)
        }
        var status: [String: JSONValue] = ["allowed": .bool(allowed)]
        if allowed && !user.groups.contains("system:masters") {
            status["reason"] = .string("RBAC: allowed by a RoleBinding in namespace \"\(asked.namespace)\"")
        }
        review.set("apiVersion", "authorization.k8s.io/v1")
        review.set("kind", "SelfSubjectAccessReview")
        review.set("status", .object(status))
        if review["metadata"] == nil { review.set("metadata", .object([:])) }
        return Self.render(review, status: 201)
    }

    // MARK: - Rendering

    private func wantsTable(_ request: HTTPRequest) -> Bool {
        (request.headers["Accept"] ?? "").contains("as=Table")
    }

    /// The request body as JSON.
    static func body(_ request: HTTPRequest) throws(Status) -> JSONValue {
        if (request.headers["Content-Type"] ?? "").hasPrefix("application/vnd.kubernetes.protobuf") {
            return try ProtobufDecoding.json(fromKubernetesProtobuf: request.body)
        }
        do {
            return try JSONCodec.parse(request.body)
        } catch {
            throw Status.badRequest("the request body is not valid JSON; send one JSON object")
        }
    }

    /// A JSON response.
    static func render(_ value: JSONValue, status: Int = 200) -> HTTPResponse {
        let bytes = JSONCodec.serialize(value)
        return HTTPResponse(
            status: HTTPStatus(code: status), headers: ["Content-Type": "application/json"], body: .bytes(bytes))
    }

    /// A Status error response.
    static func render(_ status: Status) -> HTTPResponse {
        let value = (try? JSONValue(encoding: status)) ?? .object([:])
        return render(value, status: status.code ?? 500)
    }
}

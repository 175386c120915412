import HTTPServer
import HTTPTypes
import KubernetesClient

/// Why a grader request was not answered with cluster state. Each case knows its HTTP status and renders
/// itself as `{"error": message, "reason": Reason, "code": status}`.
public enum GraderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A malformed job name, pod name or query parameter. 400.
    case badRequest(String)
    /// No bearer token, or one the tokens file does not hold. 401 with `WWW-Authenticate: Bearer`.
    case unauthorized(String)
    /// No such tier, endpoint, Job or Pod. 404.
    case notFound(String)
    /// Anything but GET: the grader only reads. 405 with `Allow: GET`.
    case methodNotAllowed(method: String)
    /// The cluster refused the grader's own read (RBAC, authentication): the grader is misconfigured. 502.
    case clusterRefused(code: Int, reason: String, message: String)
    /// The cluster did not answer in time or answered with a server error. 503.
    case clusterUnavailable(String)
    /// The request could not be written to the audit trail, so it is not answered. 503.
    case auditUnavailable(String)

    /// The HTTP status the error is answered with.
    public var status: HTTPStatus {
        switch self {
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .clusterRefused: .badGateway
        case .clusterUnavailable, .auditUnavailable: .serviceUnavailable
        }
    }

    /// A stable, short name for the case, fit for a client to branch on.
    public var reason: String {
        switch self {
        case .badRequest: "BadRequest"
        case .unauthorized: "Unauthorized"
        case .notFound: "NotFound"
        case .methodNotAllowed: "MethodNotAllowed"
        case .clusterRefused: "ClusterRefused"
        case .clusterUnavailable: "ClusterUnavailable"
        case .auditUnavailable: "AuditUnavailable"
        }
    }

    /// The message.
    public var description: String {
        switch self {
        case .badRequest(let message), .unauthorized(let message), .notFound(let message),
            .clusterUnavailable(let message), .auditUnavailable(let message):
            message
        case .methodNotAllowed(let method):
            "\(method) is not allowed: the grader only reads; use GET"
        case .clusterRefused(let code, let reason, let message):
            "the Kubernetes API refused the grader's read (\(code) \(reason)): \(message); check the grader's "
                + "service account and its Role in the tier namespace"
        }
    }

    /// The JSON answer, with `WWW-Authenticate` or `Allow` where the status calls for them.
    public var response: HTTPResponse {
        var headers: HTTPHeaders = [:]
        switch self {
        case .unauthorized: headers["WWW-Authenticate"] = "Bearer realm=\"tierserve-grader\""
        case .methodNotAllowed: headers["Allow"] = "GET"
        default: break
        }
        return .json(Body(error: description, reason: reason, code: status.code), status: status, headers: headers)
    }

    /// The grader's error for a failed Kubernetes call about `subject` (such as `Job free-job-x in free-service`).
    static func from(_ error: KubernetesClientError, subject: String) -> GraderError {
        if error.isNotFound { return .notFound("\(subject) was not found") }
        if let code = error.statusCode, [401, 403].contains(code) {
            return .clusterRefused(code: code, reason: error.status?.reason ?? "", message: error.status?.message ?? "")
        }
        if error.isTimedOut { return .clusterUnavailable("the Kubernetes API did not answer in time: \(error)") }
        if error.isUnreachable { return .clusterUnavailable("the Kubernetes API is unreachable: \(error)") }
        return .clusterUnavailable("reading \(subject) failed: \(error)")
    }

    private struct Body: Encodable {
        var error: String
        var reason: String
        var code: Int
    }
}

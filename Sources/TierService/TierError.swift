import HTTPServer
import HTTPTypes

/// Why a tier request was not turned into a Job. Each case knows its HTTP status and renders as JSON.
public enum TierError: Error, Equatable, CustomStringConvertible {
    /// The request itself is wrong: bad JSON, a dataset this tier does not serve, bad images. 400.
    case badRequest(String)
    /// The body is not JSON. 415.
    case unsupportedMediaType(String)
    /// The path exists but not for this method. 405.
    case methodNotAllowed(method: String, allowed: [HTTPMethod])
    /// No such endpoint. 404.
    case notFound(String)
    /// The cluster refused the Job (RBAC, quota, validation): its reason and message. 503.
    case clusterRefused(reason: String, code: Int, message: String)
    /// The cluster did not answer. 503.
    case clusterUnreachable(String)

    /// The HTTP status the error is answered with.
    public var status: HTTPStatus {
        switch self {
        case .badRequest: .badRequest
        case .unsupportedMediaType: HTTPStatus(code: 415)
        case .methodNotAllowed: .methodNotAllowed
        case .notFound: .notFound
        case .clusterRefused, .clusterUnreachable: .serviceUnavailable
        }
    }

    /// The message.
    public var description: String {
        switch self {
        case .badRequest(let message), .unsupportedMediaType(let message), .notFound(let message),
            .clusterUnreachable(let message):
            message
        case .methodNotAllowed(let method, let allowed):
            "\(method) is not allowed here; use \(allowed.map(\.rawValue).joined(separator: ", "))"
        case .clusterRefused(let reason, let code, let message):
            "the cluster refused the job (\(code) \(reason)): \(message)"
        }
    }

    /// The JSON answer: `{"error": message}`, plus the cluster's `reason` and `code` when it refused.
    public var response: HTTPResponse {
        var body: [String: String] = ["error": description]
        var headers: HTTPHeaders = [:]
        switch self {
        case .clusterRefused(let reason, let code, _):
            body["reason"] = reason
            body["code"] = String(code)
        case .clusterUnreachable:
            body["reason"] = "ClusterUnreachable"
        case .methodNotAllowed(_, let allowed):
            headers["Allow"] = allowed.map(\.rawValue).joined(separator: ", ")
        default:
            break
        }
        return .json(body, status: status, headers: headers)
    }
}

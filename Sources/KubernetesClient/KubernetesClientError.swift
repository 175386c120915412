import HTTPClient
import Kubernetes

/// Why a call to the API server failed.
public enum KubernetesClientError: Error, Sendable, CustomStringConvertible {
    /// The server answered with a `Status` object (its `code` filled from the HTTP status when the body had
    /// none). Branch with `isNotFound`, `isForbidden` and the like.
    case api(Status)
    /// No answer arrived: the server is unreachable, the call timed out, the TLS handshake failed, or the
    /// calling task was cancelled. `server` is the configured base URL.
    case transport(HTTPClientError, server: String)
    /// An error status whose body is not a `Status`, as from a proxy or load balancer in front of the API
    /// server; `excerpt` is the start of the body.
    case unexpectedResponse(statusCode: Int, method: String, path: String, excerpt: String)
    /// A successful answer whose body does not decode as the expected type.
    case invalidResponse(method: String, path: String, detail: String)
    /// The request could not be built, such as a body that does not encode.
    case invalidRequest(String)
    /// The credentials could not be obtained: an unreadable token file or a failing `exec` plugin.
    case credentials(KubernetesConfigurationError)

    /// The `Status` the server sent, for `.api`.
    public var status: Status? {
        if case .api(let status) = self { return status }
        return nil
    }

    /// The HTTP status code, for `.api` and `.unexpectedResponse`.
    public var statusCode: Int? {
        switch self {
        case .api(let status): status.code
        case .unexpectedResponse(let code, _, _, _): code
        default: nil
        }
    }

    /// 404, `NotFound`: the object or namespace does not exist.
    public var isNotFound: Bool { matches(code: 404, reason: "NotFound") }
    /// 409, `AlreadyExists`: the name is taken.
    public var isAlreadyExists: Bool { status?.reason == "AlreadyExists" }
    /// 409, `Conflict`: the object changed since it was read (a stale `resourceVersion`).
    public var isConflict: Bool { status?.reason == "Conflict" || (statusCode == 409 && !isAlreadyExists) }
    /// 403, `Forbidden`: RBAC denied the call, or admission (such as a ResourceQuota) rejected it.
    public var isForbidden: Bool { matches(code: 403, reason: "Forbidden") }
    /// 401, `Unauthorized`: no token, or one the server does not accept.
    public var isUnauthorized: Bool { matches(code: 401, reason: "Unauthorized") }
    /// 410, `Gone` or `Expired`: a watch or list asked for a resource version the server no longer has.
    public var isGone: Bool { matches(code: 410, reason: "Gone") || status?.reason == "Expired" }
    /// 422, `Invalid`: a field of the object is not acceptable; `status.details.causes` names them.
    public var isInvalid: Bool { matches(code: 422, reason: "Invalid") }
    /// The call ran out of time before an answer arrived.
    public var isTimedOut: Bool { transportCode == .timedOut }
    /// Nothing answered at the server's address.
    public var isUnreachable: Bool { transportCode == .couldNotConnect || transportCode == .couldNotResolveHost }
    /// Worth retrying unchanged: no answer, or the server said it was busy or broken (429, 5xx).
    public var isRetryable: Bool {
        if case .transport(let error, _) = self { return error.code != .cancelled && error.code != .invalidURL }
        guard let code = statusCode else { return false }
        return code == 429 || code >= 500
    }

    /// One line fit for a log or a person: what failed and what the server said.
    public var description: String {
        switch self {
        case .api(let status):
            "Kubernetes API error \(status.code.map(String.init) ?? "?") \(status.reason ?? ""): "
                + (status.message ?? "")
        case .transport(let error, let server):
            "Kubernetes API server \(server) \(error.code.summary): \(error)"
        case .unexpectedResponse(let code, let method, let path, let excerpt):
            "Kubernetes API \(method) \(path) answered \(code) without a Status body: \(excerpt)"
        case .invalidResponse(let method, let path, let detail):
            "Kubernetes API \(method) \(path) answered with a body that does not decode: \(detail)"
        case .invalidRequest(let message):
            "Kubernetes request could not be built: \(message)"
        case .credentials(let error):
            "Kubernetes credentials unavailable: \(error)"
        }
    }

    private var transportCode: HTTPClientError.Code? {
        if case .transport(let error, _) = self { return error.code }
        return nil
    }

    private func matches(code: Int, reason: String) -> Bool {
        guard let status else { return statusCode == code }
        return status.reason == reason || (status.code == code && (status.reason ?? "").isEmpty)
    }
}

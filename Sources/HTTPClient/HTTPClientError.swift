import CCurl

/// Why a call to `HTTPClient` produced no response, mapped from libcurl's result code.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure; `summary` is a fixed phrase fit for a metrics label.
    public enum Code: Sendable, Equatable {
        /// The URL does not parse or is not `http`/`https`.
        case invalidURL
        /// The host name did not resolve.
        case couldNotResolveHost
        /// Nothing accepted the connection (refused, unreachable).
        case couldNotConnect
        /// The connect or total timeout passed.
        case timedOut
        /// The TLS handshake failed or a certificate, key or CA bundle was rejected.
        case tls
        /// The connection broke or the server sent nothing or less than it promised.
        case connectionLost
        /// The calling task was cancelled or the stream's consumer stopped reading.
        case cancelled
        /// Any other libcurl failure; `curlCode` says which.
        case other

        /// A short fixed phrase for the kind.
        public var summary: String {
            switch self {
            case .invalidURL: "invalid URL"
            case .couldNotResolveHost: "could not resolve host"
            case .couldNotConnect: "could not connect"
            case .timedOut: "timed out"
            case .tls: "TLS failure"
            case .connectionLost: "connection lost"
            case .cancelled: "cancelled"
            case .other: "transfer failed"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// The URL of the call that failed.
    public var url: String
    /// libcurl's `CURLcode`, for whoever needs the detail.
    public var curlCode: UInt32
    /// libcurl's error buffer for this transfer, as context only; never branch on it.
    public var detail: String

    /// An error from its parts.
    public init(_ code: Code, url: String, curlCode: UInt32 = 0, detail: String = "") {
        self.code = code
        self.url = url
        self.curlCode = curlCode
        self.detail = detail
    }

    /// An error for a failed libcurl call, classified by its result code.
    init(curlCode: CURLcode, url: String, detail: String) {
        self.init(Self.classify(curlCode), url: url, curlCode: curlCode.rawValue, detail: detail)
    }

    /// `<summary> url=<url> curl=<code>: <detail>`.
    public var description: String {
        "\(code.summary) url=\(url) curl=\(curlCode)" + (detail.isEmpty ? "" : ": \(detail)")
    }

    private static func classify(_ code: CURLcode) -> Code {
        switch code {
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            .invalidURL
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            .couldNotResolveHost
        case CURLE_COULDNT_CONNECT:
            .couldNotConnect
        case CURLE_OPERATION_TIMEDOUT:
            .timedOut
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_SHUTDOWN_FAILED,
            CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT:
            .tls
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2,
            CURLE_HTTP2_STREAM:
            .connectionLost
        case CURLE_ABORTED_BY_CALLBACK, CURLE_WRITE_ERROR:
            .cancelled
        default:
            .other
        }
    }
}

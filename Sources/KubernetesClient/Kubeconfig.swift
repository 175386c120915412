import Kubernetes

/// The parts of a kubeconfig file (`kind: Config`) this client reads. Fields it does not name are ignored;
/// fields it names but does not implement are refused by `KubernetesConfiguration.kubeconfig`.
struct Kubeconfig: Decodable, Sendable {
    /// An entry of `clusters`, `users` or `contexts`: a name and the value under its own key.
    struct Named<Value: Decodable & Sendable>: Decodable, Sendable {
        var name: String
        var value: Value?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: DynamicKey.self)
            name = try container.decode(String.self, forKey: DynamicKey("name"))
            let valueKey = container.allKeys.first { ["cluster", "user", "context"].contains($0.stringValue) }
            value = try valueKey.map { try container.decode(Value.self, forKey: $0) }
        }
    }

    struct Cluster: Decodable, Sendable {
        var server: String?
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool?
        var proxyURL: String?
        var tlsServerName: String?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case proxyURL = "proxy-url"
            case tlsServerName = "tls-server-name"
        }
    }

    struct User: Decodable, Sendable {
        var token: String?
        var tokenFile: String?
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        var username: String?
        var password: String?
        var exec: Exec?
        var authProvider: JSONValue?
        var impersonate: String?

        enum CodingKeys: String, CodingKey {
            case token, tokenFile, username, password, exec
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case authProvider = "auth-provider"
            case impersonate = "as"
        }
    }

    struct Exec: Decodable, Sendable {
        struct Variable: Decodable, Sendable {
            var name: String
            var value: String
        }

        var command: String?
        var args: [String]?
        var env: [Variable]?
        var apiVersion: String?
        var provideClusterInfo: Bool?
    }

    struct Context: Decodable, Sendable {
        var cluster: String?
        var user: String?
        var namespace: String?
    }

    var clusters: [Named<Cluster>]?
    var users: [Named<User>]?
    var contexts: [Named<Context>]?
    var currentContext: String?

    enum CodingKeys: String, CodingKey {
        case clusters, users, contexts
        case currentContext = "current-context"
    }
}

/// A coding key made from any string, for objects whose keys are read rather than declared.
struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }

    init(_ string: String) {
        stringValue = string
    }

    init?(stringValue: String) {
        self.stringValue = stringValue
    }

    init?(intValue: Int) {
        return nil
    }
}

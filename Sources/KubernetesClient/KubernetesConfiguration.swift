import Foundation
import HTTPClient

/// Where the API server is, how to trust it, and how to authenticate to it.
///
/// Build one explicitly, from a kubeconfig (`kubeconfig(path:context:)`), from a pod's service account
/// (`inCluster(environment:serviceAccountDirectory:)`), or let `resolve` pick the way `kubectl` does.
public struct KubernetesConfiguration: Sendable {
    /// Where a configuration came from, for messages.
    public enum Source: Sendable, Equatable {
        /// Given in code.
        case explicit
        /// Read from a kubeconfig file, using the named context.
        case kubeconfig(path: String, context: String)
        /// Read from the service account files mounted into a pod.
        case inCluster
    }

    /// The API server's base URL without a trailing slash, such as `https://10.96.0.1:443`.
    public var server: String
    /// How requests authenticate.
    public var credentials: Credentials
    /// The CAs the server's certificate must chain to.
    public var trustedCertificates: HTTPClient.TLS.TrustedCertificates
    /// A client certificate (PEM) for certificate authentication, with its key.
    public var clientCertificatePEM: [UInt8]?
    /// The client certificate's private key (PEM).
    public var clientKeyPEM: [UInt8]?
    /// Skips checking the server's certificate, as kubeconfig's `insecure-skip-tls-verify`; never on EKS.
    public var skipsTLSVerification: Bool
    /// The namespace a caller uses when it names none: the context's, the pod's, or `default`.
    public var namespace: String
    /// Where this configuration came from.
    public var source: Source

    /// An explicit configuration: a server URL, an optional token, and optionally the CA to trust.
    ///
    /// - Parameters:
    ///   - server: the base URL, such as `https://127.0.0.1:6443`; a trailing slash is dropped.
    ///   - token: a bearer token, or nil for none.
    ///   - certificateAuthorityPEM: the CA bundle to trust; nil trusts the system bundle.
    ///   - namespace: the default namespace.
    public init(
        server: String, token: String? = nil, certificateAuthorityPEM: [UInt8]? = nil, namespace: String = "default"
    ) {
        self.server = Self.trimmingTrailingSlashes(server)
        self.credentials = token.map { .token($0) } ?? .none
        self.trustedCertificates = certificateAuthorityPEM.map { .pem($0) } ?? .system
        self.clientCertificatePEM = nil
        self.clientKeyPEM = nil
        self.skipsTLSVerification = false
        self.namespace = namespace
        self.source = .explicit
    }

    /// A configuration from all of its parts.
    public init(
        server: String, credentials: Credentials, trustedCertificates: HTTPClient.TLS.TrustedCertificates,
        clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil, skipsTLSVerification: Bool = false,
        namespace: String = "default", source: Source = .explicit
    ) {
        self.server = Self.trimmingTrailingSlashes(server)
        self.credentials = credentials
        self.trustedCertificates = trustedCertificates
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.skipsTLSVerification = skipsTLSVerification
        self.namespace = namespace
        self.source = source
    }

    /// Picks a configuration the way `kubectl` does, first match wins:
    ///
    /// 1. `explicit`, when given;
    /// 2. a kubeconfig: the first existing file of the colon-separated `KUBECONFIG` list, else `~/.kube/config`
    ///    (files are not merged, unlike `kubectl`), using `context` or the file's `current-context`;
    /// 3. in-cluster, when `KUBERNETES_SERVICE_HOST` is set.
    ///
    /// A kubeconfig that exists but is broken is an error, not a reason to fall through to in-cluster.
    ///
    /// - Throws: `KubernetesConfigurationError`, `.noConfiguration` when none of the three applies.
    public static func resolve(
        explicit: KubernetesConfiguration? = nil, context: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = inClusterServiceAccountDirectory
    ) throws(KubernetesConfigurationError) -> KubernetesConfiguration {
        if let explicit { return explicit }
        if let path = kubeconfigPath(environment: environment) {
            return try kubeconfig(path: path, context: context)
        }
        if environment["KUBERNETES_SERVICE_HOST"] != nil {
            return try inCluster(environment: environment, serviceAccountDirectory: serviceAccountDirectory)
        }
        throw KubernetesConfigurationError(
            .noConfiguration,
            message: "no Kubernetes configuration: pass a server URL, set KUBECONFIG or create ~/.kube/config, "
                + "or run inside a pod with a service account")
    }

    /// The kubeconfig file `resolve` would read, or nil when there is none.
    public static func kubeconfigPath(environment: [String: String]) -> String? {
        let files = FileManager.default
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            return list.split(separator: ":").map(String.init).first { files.fileExists(atPath: $0) }
        }
        guard let home = environment["HOME"] else { return nil }
        let path = "\(home)/.kube/config"
        return files.fileExists(atPath: path) ? path : nil
    }

    static func trimmingTrailingSlashes(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}

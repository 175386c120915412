import Foundation

extension KubernetesConfiguration {
    /// Where Kubernetes mounts a pod's service account token, CA and namespace.
    public static let inClusterServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The configuration of a pod talking to its own cluster: the API server from `KUBERNETES_SERVICE_HOST`
    /// and `KUBERNETES_SERVICE_PORT`, the token from `token` (re-read when the kubelet rotates it), the CA from
    /// `ca.crt`, and the namespace from `namespace` (or `default`).
    ///
    /// - Parameters:
    ///   - environment: where the service variables are read; the process's own by default.
    ///   - serviceAccountDirectory: where the files are; tests point this at a temporary directory.
    /// - Throws: `KubernetesConfigurationError` naming the variable or file that is missing.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = inClusterServiceAccountDirectory
    ) throws(KubernetesConfigurationError) -> KubernetesConfiguration {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw KubernetesConfigurationError(
                .missingField, field: "KUBERNETES_SERVICE_HOST",
                message: "the variable is not set, so this is not running in a pod; use a kubeconfig instead")
        }
        let port = environment["KUBERNETES_SERVICE_PORT"].flatMap { $0.isEmpty ? nil : $0 } ?? "443"
        // An IPv6 service address needs brackets in a URL.
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"

        let files = FileManager.default
        let tokenPath = "\(serviceAccountDirectory)/token"
        let caPath = "\(serviceAccountDirectory)/ca.crt"
        for path in [tokenPath, caPath] where !files.isReadableFile(atPath: path) {
            throw KubernetesConfigurationError(
                .unreadableFile, field: path,
                message: "the service account file cannot be read; check that the pod mounts its service account "
                    + "token (automountServiceAccountToken)")
        }
        let namespaceText = try? String(contentsOfFile: "\(serviceAccountDirectory)/namespace", encoding: .utf8)
        let namespace = namespaceText?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""

        return KubernetesConfiguration(
            server: "https://\(authority)", credentials: .tokenFile(path: tokenPath),
            trustedCertificates: .file(path: caPath), namespace: namespace.isEmpty ? "default" : namespace,
            source: .inCluster)
    }
}

import Foundation
import HTTPClient
import YAML

extension KubernetesConfiguration {
    /// The configuration a kubeconfig file gives for `context`, or for its `current-context`.
    ///
    /// Relative paths in the file (`certificate-authority`, `tokenFile`, client certificate and key, an `exec`
    /// command with a `/`) are taken relative to the file's directory, as `kubectl` does.
    ///
    /// - Throws: `KubernetesConfigurationError` naming the file or field that is missing, invalid or unsupported.
    public static func kubeconfig(
        path: String, context: String? = nil
    ) throws(KubernetesConfigurationError) -> KubernetesConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw KubernetesConfigurationError(
                .unreadableFile, field: path, message: "the kubeconfig cannot be read: \(error.localizedDescription)")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try kubeconfig(text: text, context: context, baseDirectory: directory, path: path)
    }

    /// The configuration kubeconfig `text` gives for `context`, or for its `current-context`.
    ///
    /// - Parameters:
    ///   - baseDirectory: the directory relative paths in the text are taken from.
    ///   - path: the file's name, for `source` and messages.
    /// - Throws: `KubernetesConfigurationError` naming the field that is missing, invalid or unsupported.
    public static func kubeconfig(
        text: String, context: String? = nil, baseDirectory: String, path: String = "kubeconfig"
    ) throws(KubernetesConfigurationError) -> KubernetesConfiguration {
        // 1. Parse.
        let file: Kubeconfig
        do {
            file = try YAMLDecoder().decode(Kubeconfig.self, from: text)
        } catch {
            throw KubernetesConfigurationError(
                .invalidKubeconfig, field: path, message: "the kubeconfig does not parse: \(error)")
        }

        // 2. The context, then the cluster and user it names.
        guard let contextName = context ?? file.currentContext, !contextName.isEmpty else {
            throw KubernetesConfigurationError(
                .missingContext, field: "current-context",
                message: "the kubeconfig sets no current-context; name a context or run "
                    + "`kubectl config use-context NAME`")
        }
        guard let contextEntry = file.contexts?.first(where: { $0.name == contextName }) else {
            let known = (file.contexts ?? []).map(\.name).joined(separator: ", ")
            throw KubernetesConfigurationError(
                .missingContext, field: "contexts[\(contextName)]",
                message: "the kubeconfig has no context \"\(contextName)\"; it has: \(known.isEmpty ? "none" : known)")
        }
        let contextValue = contextEntry.value ?? Kubeconfig.Context()
        let clusterName = try required(contextValue.cluster, field: "contexts[\(contextName)].context.cluster")
        guard let cluster = file.clusters?.first(where: { $0.name == clusterName })?.value else {
            throw KubernetesConfigurationError(
                .missingEntry, field: "clusters[\(clusterName)]",
                message: "context \"\(contextName)\" names cluster \"\(clusterName)\", which the kubeconfig lacks")
        }
        var user = Kubeconfig.User()
        if let userName = contextValue.user, !userName.isEmpty {
            guard let found = file.users?.first(where: { $0.name == userName }) else {
                throw KubernetesConfigurationError(
                    .missingEntry, field: "users[\(userName)]",
                    message: "context \"\(contextName)\" names user \"\(userName)\", which the kubeconfig lacks")
            }
            user = found.value ?? Kubeconfig.User()
            try refuseUnsupported(user, field: "users[\(userName)].user")
        }

        // 3. The cluster: where and whom to trust.
        let clusterField = "clusters[\(clusterName)].cluster"
        let server = try required(cluster.server, field: "\(clusterField).server")
        try refuseUnsupported(cluster, field: clusterField)
        let resolver = PathResolver(baseDirectory: baseDirectory)
        var trusted = HTTPClient.TLS.TrustedCertificates.system
        if let data = cluster.certificateAuthorityData, !data.isEmpty {
            trusted = .pem(try base64(data, field: "\(clusterField).certificate-authority-data"))
        } else if let file = cluster.certificateAuthority, !file.isEmpty {
            trusted = .pem(try resolver.read(file, field: "\(clusterField).certificate-authority"))
        }

        // 4. The user: a client certificate, and a token, a token file or a plugin.
        let userField = "users[\(contextValue.user ?? "")].user"
        let certificate = try pem(
            data: user.clientCertificateData, file: user.clientCertificate, resolver: resolver,
            field: "\(userField).client-certificate")
        let key = try pem(
            data: user.clientKeyData, file: user.clientKey, resolver: resolver, field: "\(userField).client-key")
        if (certificate == nil) != (key == nil) {
            throw KubernetesConfigurationError(
                .missingField,
                field: certificate == nil ? "\(userField).client-certificate" : "\(userField).client-key",
                message: "a client certificate needs both client-certificate(-data) and client-key(-data)")
        }
        let credentials = try credentials(of: user, resolver: resolver, field: userField)

        return KubernetesConfiguration(
            server: server, credentials: credentials, trustedCertificates: trusted, clientCertificatePEM: certificate,
            clientKeyPEM: key, skipsTLSVerification: cluster.insecureSkipTLSVerify ?? false,
            namespace: contextValue.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default",
            source: .kubeconfig(path: path, context: contextName))
    }

    // MARK: - Parts

    private static func credentials(
        of user: Kubeconfig.User, resolver: PathResolver, field: String
    ) throws(KubernetesConfigurationError) -> Credentials {
        if let token = user.token, !token.isEmpty { return .token(token) }
        if let file = user.tokenFile, !file.isEmpty { return .tokenFile(path: resolver.absolute(file)) }
        guard let exec = user.exec else { return .none }
        var command = try required(exec.command, field: "\(field).exec.command")
        if command.contains("/") { command = resolver.absolute(command) }
        var environment: [String: String] = [:]
        for variable in exec.env ?? [] { environment[variable.name] = variable.value }
        return .exec(
            ExecCredentialCommand(
                command: command, arguments: exec.args ?? [], environment: environment,
                apiVersion: exec.apiVersion ?? "client.authentication.k8s.io/v1beta1"))
    }

    private static func refuseUnsupported(
        _ user: Kubeconfig.User, field: String
    ) throws(KubernetesConfigurationError) {
        if user.authProvider != nil {
            throw unsupported(
                "\(field).auth-provider",
                "auth-provider plugins (gcp, azure, oidc) are not implemented; use a token or an exec plugin")
        }
        if user.username != nil || user.password != nil {
            throw unsupported(
                "\(field).username", "basic authentication is not implemented; use a token or a client certificate")
        }
        if user.impersonate != nil {
            throw unsupported("\(field).as", "impersonation is not implemented")
        }
        if user.exec?.provideClusterInfo == true {
            throw unsupported(
                "\(field).exec.provideClusterInfo",
                "passing cluster information to an exec plugin is not implemented; remove provideClusterInfo")
        }
    }

    private static func refuseUnsupported(
        _ cluster: Kubeconfig.Cluster, field: String
    ) throws(KubernetesConfigurationError) {
        if let proxy = cluster.proxyURL, !proxy.isEmpty {
            throw unsupported("\(field).proxy-url", "proxies are not implemented; reach the server \(proxy) directly")
        }
        if let name = cluster.tlsServerName, !name.isEmpty {
            throw unsupported("\(field).tls-server-name", "overriding the TLS server name is not implemented")
        }
    }

    private static func unsupported(_ field: String, _ message: String) -> KubernetesConfigurationError {
        KubernetesConfigurationError(.unsupported, field: field, message: message)
    }

    private static func required(_ value: String?, field: String) throws(KubernetesConfigurationError) -> String {
        guard let value, !value.isEmpty else {
            throw KubernetesConfigurationError(.missingField, field: field, message: "the field is required")
        }
        return value
    }

    private static func base64(_ text: String, field: String) throws(KubernetesConfigurationError) -> [UInt8] {
        let compact = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: compact) else {
            throw KubernetesConfigurationError(
                .invalidValue, field: field,
                message: "the value is not base64; encode the PEM file with `base64 -w0`")
        }
        return Array(data)
    }

    private static func pem(
        data: String?, file: String?, resolver: PathResolver, field: String
    ) throws(KubernetesConfigurationError) -> [UInt8]? {
        if let data, !data.isEmpty { return try base64(data, field: "\(field)-data") }
        if let file, !file.isEmpty { return try resolver.read(file, field: field) }
        return nil
    }
}

/// Turns a kubeconfig's relative paths into absolute ones and reads the files they name.
private struct PathResolver {
    var baseDirectory: String

    func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : "\(baseDirectory)/\(path)"
    }

    func read(_ path: String, field: String) throws(KubernetesConfigurationError) -> [UInt8] {
        let absolutePath = absolute(path)
        guard let data = FileManager.default.contents(atPath: absolutePath) else {
            throw KubernetesConfigurationError(
                .unreadableFile, field: field, message: "the file \(absolutePath) cannot be read")
        }
        return Array(data)
    }
}

import Foundation
import HTTPClient
import HTTPTypes
import Kubernetes
import KubernetesClient
import Testing

@Suite struct KubernetesConfigurationTests {
    /// A kubeconfig with two contexts; `users` is spliced in so each test picks its user's credentials.
    static func kubeconfig(user: String, currentContext: String = "free") -> String {
        """
        apiVersion: v1
        kind: Config
        current-context: \(currentContext)
        clusters:
        - name: local
          cluster:
            server: https://127.0.0.1:6443/
            certificate-authority-data: \(Data("CA PEM".utf8).base64EncodedString())
        - name: eks
          cluster:
            server: https://ABCD.gr7.eu-west-1.eks.amazonaws.com
            insecure-skip-tls-verify: true
        contexts:
        - name: free
          context:
            cluster: local
            user: tester
            namespace: free
        - name: prod
          context:
            cluster: eks
            user: tester
        users:
        - name: tester
          user:
        \(user.split(separator: "\n").map { "    \($0)" }.joined(separator: "\n"))
        """
    }

    @Test("a token user, the current context, its namespace and base64 CA data")
    func tokenAndCurrentContext() throws {
        let configuration = try KubernetesConfiguration.kubeconfig(
            text: Self.kubeconfig(user: "token: abc123"), baseDirectory: "/tmp")
        #expect(configuration.server == "https://127.0.0.1:6443")
        #expect(configuration.credentials == .token("abc123"))
        #expect(configuration.namespace == "free")
        #expect(configuration.source == .kubeconfig(path: "kubeconfig", context: "free"))
        guard case .pem(let bytes) = configuration.trustedCertificates else {
            Issue.record("expected the CA data to be trusted")
            return
        }
        #expect(bytes == Array("CA PEM".utf8))
        #expect(!configuration.skipsTLSVerification)
    }

    @Test("a named context overrides current-context; no namespace means default")
    func namedContext() throws {
        let configuration = try KubernetesConfiguration.kubeconfig(
            text: Self.kubeconfig(user: "token: abc123"), context: "prod", baseDirectory: "/tmp")
        #expect(configuration.server == "https://ABCD.gr7.eu-west-1.eks.amazonaws.com")
        #expect(configuration.namespace == "default")
        #expect(configuration.skipsTLSVerification)
    }

    @Test("a missing context is an error naming it and the contexts there are")
    func missingContext() {
        let error = #expect(throws: KubernetesConfigurationError.self) {
            try KubernetesConfiguration.kubeconfig(
                text: Self.kubeconfig(user: "token: x"), context: "staging", baseDirectory: "/tmp")
        }
        #expect(error?.code == .missingContext)
        #expect(error?.field == "contexts[staging]")
        #expect(error?.message.contains("\"staging\"") == true)
        #expect(error?.message.contains("free, prod") == true)
    }

    @Test("client certificate and key data decode from base64; a relative tokenFile is taken from the file's directory")
    func clientCertificateAndTokenFile() throws {
        let certificate = Data("CERT".utf8).base64EncodedString()
        let key = Data("KEY".utf8).base64EncodedString()
        let configuration = try KubernetesConfiguration.kubeconfig(
            text: Self.kubeconfig(
                user: "client-certificate-data: \(certificate)\nclient-key-data: \(key)\ntokenFile: secrets/token"),
            baseDirectory: "/home/me/.kube")
        #expect(configuration.clientCertificatePEM == Array("CERT".utf8))
        #expect(configuration.clientKeyPEM == Array("KEY".utf8))
        #expect(configuration.credentials == .tokenFile(path: "/home/me/.kube/secrets/token"))
    }

    @Test("a certificate without its key, and bad base64, are errors naming the field")
    func invalidCertificateFields() {
        let lonely = #expect(throws: KubernetesConfigurationError.self) {
            try KubernetesConfiguration.kubeconfig(
                text: Self.kubeconfig(user: "client-certificate-data: \(Data("C".utf8).base64EncodedString())"),
                baseDirectory: "/tmp")
        }
        #expect(lonely?.code == .missingField)
        #expect(lonely?.field == "users[tester].user.client-key")
        let garbled = #expect(throws: KubernetesConfigurationError.self) {
            try KubernetesConfiguration.kubeconfig(
                text: Self.kubeconfig(user: "client-certificate-data: '***'\nclient-key-data: '***'"),
                baseDirectory: "/tmp")
        }
        #expect(garbled?.code == .invalidValue)
        #expect(garbled?.field == "users[tester].user.client-certificate-data")
    }

    @Test(
        "auth-provider and basic auth are refused, naming the field",
        arguments: [
            ("auth-provider:\n  name: gcp", "users[tester].user.auth-provider"),
            ("username: admin\npassword: hunter2", "users[tester].user.username"),
        ])
    func unsupported(user: String, field: String) {
        let error = #expect(throws: KubernetesConfigurationError.self) {
            try KubernetesConfiguration.kubeconfig(text: Self.kubeconfig(user: user), baseDirectory: "/tmp")
        }
        #expect(error?.code == .unsupported)
        #expect(error?.field == field)
    }

    @Test("an exec user becomes a plugin command with its arguments and environment")
    func execParsed() throws {
        let user = """
            exec:
              apiVersion: client.authentication.k8s.io/v1beta1
              command: aws
              args: [eks, get-token, --cluster-name, tierserve]
              env:
              - name: AWS_PROFILE
                value: tierserve
            """
        let configuration = try KubernetesConfiguration.kubeconfig(
            text: Self.kubeconfig(user: user), baseDirectory: "/tmp")
        #expect(
            configuration.credentials
                == .exec(
                    ExecCredentialCommand(
                        command: "aws", arguments: ["eks", "get-token", "--cluster-name", "tierserve"],
                        environment: ["AWS_PROFILE": "tierserve"])))
    }

    @Test("the exec plugin's token is sent; a failing plugin is a credentials error")
    func execRuns() async throws {
        try await withTemporaryDirectory { directory in
            let plugin = "\(directory)/get-token"
            try write(
                """
                #!/bin/sh
                [ "$TIER" = free ] || { echo "TIER not set" >&2; exit 3; }
                echo '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1",\
                "status":{"token":"from-plugin","expirationTimestamp":"2099-01-01T00:00:00Z"}}'
                """, to: plugin, executable: true)
            try await withMockServer { _ in
                rawJSON(#"{"major":"1"}"#)
            } _: { server in
                var configuration = KubernetesConfiguration(server: server.url)
                configuration.credentials = .exec(ExecCredentialCommand(command: plugin, environment: ["TIER": "free"]))
                let client = KubernetesClient(configuration: configuration)
                _ = try await client.version()
                _ = try await client.version()
                #expect(
                    server.requests.map { $0.headers["Authorization"] } == ["Bearer from-plugin", "Bearer from-plugin"])

                configuration.credentials = .exec(ExecCredentialCommand(command: plugin))
                let failing = KubernetesClient(configuration: configuration)
                let error = await #expect(throws: KubernetesClientError.self) { try await failing.version() }
                guard case .credentials(let cause) = error else {
                    Issue.record("expected a credentials error, got \(String(describing: error))")
                    return
                }
                #expect(cause.code == .credentialPluginFailed)
                #expect(cause.message.contains("status 3"))
                #expect(cause.message.contains("TIER not set"))
            }
        }
    }

    @Test("in-cluster configuration reads the service account directory, and the token is re-read when rotated")
    func inCluster() async throws {
        try await withTemporaryDirectory { directory in
            try write("token-one\n", to: "\(directory)/token")
            try write("CA", to: "\(directory)/ca.crt")
            try write("pro", to: "\(directory)/namespace")
            let environment = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
            let configuration = try KubernetesConfiguration.inCluster(
                environment: environment, serviceAccountDirectory: directory)
            #expect(configuration.server == "https://10.96.0.1:443")
            #expect(configuration.namespace == "pro")
            #expect(configuration.credentials == .tokenFile(path: "\(directory)/token"))
            #expect(configuration.source == .inCluster)

            // The same token file, used against a plain-HTTP mock server.
            try await withMockServer { _ in
                rawJSON(#"{"major":"1"}"#)
            } _: { server in
                var local = configuration
                local.server = server.url
                let client = KubernetesClient(configuration: local)
                _ = try await client.version()
                try write("token-two\n", to: "\(directory)/token")
                _ = try await client.version()
                #expect(
                    server.requests.map { $0.headers["Authorization"] } == ["Bearer token-one", "Bearer token-two"])
            }

            try FileManager.default.removeItem(atPath: "\(directory)/token")
            let error = #expect(throws: KubernetesConfigurationError.self) {
                try KubernetesConfiguration.inCluster(environment: environment, serviceAccountDirectory: directory)
            }
            #expect(error?.code == .unreadableFile)
            #expect(error?.field == "\(directory)/token")
        }
    }

    @Test("resolution order: explicit, then KUBECONFIG, then in-cluster, else an error")
    func resolutionOrder() async throws {
        try await withTemporaryDirectory { directory in
            try write("t", to: "\(directory)/token")
            try write("CA", to: "\(directory)/ca.crt")
            let kubeconfigPath = "\(directory)/config"
            try write(Self.kubeconfig(user: "token: from-file"), to: kubeconfigPath)
            let inPod = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "HOME": directory]

            let explicit = try KubernetesConfiguration.resolve(
                explicit: KubernetesConfiguration(server: "http://127.0.0.1:1"),
                environment: inPod.merging(["KUBECONFIG": kubeconfigPath]) { $1 })
            #expect(explicit.source == .explicit)

            let fromFile = try KubernetesConfiguration.resolve(
                environment: inPod.merging(["KUBECONFIG": "\(directory)/absent:\(kubeconfigPath)"]) { $1 },
                serviceAccountDirectory: directory)
            #expect(fromFile.source == .kubeconfig(path: kubeconfigPath, context: "free"))
            #expect(fromFile.credentials == .token("from-file"))

            let fromPod = try KubernetesConfiguration.resolve(environment: inPod, serviceAccountDirectory: directory)
            #expect(fromPod.source == .inCluster)

            let error = #expect(throws: KubernetesConfigurationError.self) {
                try KubernetesConfiguration.resolve(environment: ["HOME": directory])
            }
            #expect(error?.code == .noConfiguration)
        }
    }
}

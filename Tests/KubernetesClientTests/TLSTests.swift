import Foundation
import HTTPServer
import HTTPTestSupport
import KubernetesClient
import Testing

@Suite struct TLSTests {
    @Test("a server with a self-signed certificate is trusted through CA data, and refused without it")
    func selfSignedCertificate() async throws {
        let certificate = try TestCertificate.make()
        let tls = HTTPServer.Configuration.TLS(
            certificatePEM: certificate.certificatePEM, privateKeyPEM: certificate.privateKeyPEM)
        try await withMockServer(tls: tls) { _ in
            rawJSON(#"{"major":"1","minor":"30"}"#)
        } _: { server in
            #expect(server.url.hasPrefix("https://"))
            let trusting = KubernetesClient(
                configuration: KubernetesConfiguration(
                    server: server.url, certificateAuthorityPEM: Array(certificate.certificatePEM.utf8)))
            let version = try await trusting.version()
            #expect(version.minor == "30")

            let untrusting = KubernetesClient(configuration: KubernetesConfiguration(server: server.url))
            let error = await #expect(throws: KubernetesClientError.self) { try await untrusting.version() }
            guard case .transport(let cause, let reported) = error else {
                Issue.record("expected a transport error, got \(String(describing: error))")
                return
            }
            #expect(cause.code == .tls)
            #expect(reported == server.url)
        }
    }

    @Test("a kubeconfig's certificate-authority-data makes the server trusted")
    func kubeconfigCertificateAuthority() async throws {
        let certificate = try TestCertificate.make()
        let tls = HTTPServer.Configuration.TLS(
            certificatePEM: certificate.certificatePEM, privateKeyPEM: certificate.privateKeyPEM)
        try await withMockServer(tls: tls) { _ in
            rawJSON(#"{"major":"1"}"#)
        } _: { server in
            let text = """
                apiVersion: v1
                kind: Config
                current-context: local
                clusters:
                - name: local
                  cluster:
                    server: \(server.url)
                    certificate-authority-data: \(Data(certificate.certificatePEM.utf8).base64EncodedString())
                contexts:
                - name: local
                  context: {cluster: local, user: me}
                users:
                - name: me
                  user: {token: abc}
                """
            let configuration = try KubernetesConfiguration.kubeconfig(text: text, baseDirectory: "/tmp")
            let version = try await KubernetesClient(configuration: configuration).version()
            #expect(version.major == "1")
            #expect(server.requests.first?.headers["Authorization"] == "Bearer abc")
        }
    }
}

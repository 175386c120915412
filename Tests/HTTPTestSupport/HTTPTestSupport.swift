import Foundation
import HTTPServer
import Logging

// Helpers shared by the HTTP server and client tests.

/// Runs `body` with a server on an ephemeral loopback port, and stops the server whatever `body` does.
public func withServer<T>(
    _ configuration: HTTPServer.Configuration = .init(), handler: @escaping HTTPServer.Handler,
    _ body: (HTTPServer) async throws -> T
) async throws -> T {
    var configuration = configuration
    configuration.logger = Logger(label: "test-server", level: .warning)
    let server = try HTTPServer(configuration: configuration, handler: handler)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// A self-signed certificate for 127.0.0.1 and its key, made by the `openssl` command in a temporary directory.
public struct TestCertificate {
    /// The certificate, PEM.
    public var certificatePEM: String
    /// Its private key, PEM.
    public var privateKeyPEM: String

    /// Makes a fresh certificate and key.
    public static func make() throws -> TestCertificate {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("key.pem").path
        let certificate = directory.appendingPathComponent("cert.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return TestCertificate(
            certificatePEM: try String(contentsOfFile: certificate, encoding: .utf8),
            privateKeyPEM: try String(contentsOfFile: key, encoding: .utf8))
    }
}

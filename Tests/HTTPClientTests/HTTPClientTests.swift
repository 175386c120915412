import Foundation
import HTTPClient
import HTTPServer
import HTTPTestSupport
import HTTPTypes
import Testing

@Suite struct HTTPClientTests {
    @Test("a call to a handler slower than the timeout fails as timedOut, naming the URL")
    func timeout() async throws {
        try await withServer(.init(shutdownGracePeriod: .milliseconds(100))) { _ in
            try? await Task.sleep(for: .seconds(8))
            return .text("late")
        } _: { server in
            let url = "http://127.0.0.1:\(server.port)/slow"
            let started = ContinuousClock.now
            let error = await #expect(throws: HTTPClientError.self) {
                try await HTTPClient().send(HTTPClientRequest(url: url, timeout: .milliseconds(200)))
            }
            #expect(error?.code == .timedOut)
            #expect(error?.url == url)
            // Well before the handler's 8 s, with room for a loaded machine to schedule the task late.
            #expect(ContinuousClock.now - started < .seconds(4))
        }
    }

    @Test("a closed port fails as couldNotConnect")
    func connectionRefused() async throws {
        let server = try HTTPServer(configuration: .init()) { _ in .text("") }
        let port = server.port
        await server.stop()
        let error = await #expect(throws: HTTPClientError.self) {
            try await HTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/"))
        }
        #expect(error?.code == .couldNotConnect)
    }

    @Test("URLs that do not parse or are not HTTP fail as invalidURL", arguments: ["not a url", "ftp://127.0.0.1/x"])
    func invalidURL(url: String) async {
        let error = await #expect(throws: HTTPClientError.self) {
            try await HTTPClient().send(HTTPClientRequest(url: url))
        }
        #expect(error?.code == .invalidURL)
        #expect(error?.url == url)
    }

    @Test("the bearer token helper sends an Authorization header, and an error status is a response")
    func bearerToken() async throws {
        try await withServer { request in
            request.headers["Authorization"] == "Bearer s3cret" ? .text("hello") : .error(.unauthorized, message: "no")
        } _: { server in
            let client = HTTPClient()
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/")
            #expect(try await client.send(request).status == .unauthorized)
            request.setBearerToken("s3cret")
            let response = try await client.send(request)
            #expect(response.status == .ok)
            #expect(response.text == "hello")
        }
    }

    @Test("a JSON body is sent with its content type, and the response decodes")
    func jsonBody() async throws {
        struct Payload: Codable, Equatable { var name: String; var replicas: Int }
        try await withServer { request in
            guard request.headers["Content-Type"] == "application/json",
                let payload = try? request.decodeJSON(Payload.self)
            else { return .error(.badRequest, message: "expected JSON") }
            return .json(Payload(name: payload.name.uppercased(), replicas: payload.replicas + 1), status: .created)
        } _: { server in
            var request = HTTPClientRequest(method: .post, url: "http://127.0.0.1:\(server.port)/objects")
            try request.setJSONBody(Payload(name: "job", replicas: 1))
            let response = try await HTTPClient().send(request)
            #expect(response.status == .created)
            #expect(try response.decodeJSON(Payload.self) == Payload(name: "JOB", replicas: 2))
        }
    }

    @Test("a server whose certificate the client does not trust fails as tls")
    func untrustedCertificate() async throws {
        let certificate = try TestCertificate.make()
        let other = try TestCertificate.make()
        let tls = HTTPServer.Configuration.TLS(
            certificatePEM: certificate.certificatePEM, privateKeyPEM: certificate.privateKeyPEM)
        try await withServer(.init(tls: tls)) { _ in
            .text("secret")
        } _: { server in
            let client = HTTPClient(
                configuration: .init(tls: .init(trustedCertificates: .pem(Array(other.certificatePEM.utf8)))))
            let error = await #expect(throws: HTTPClientError.self) {
                try await client.send(HTTPClientRequest(url: "https://127.0.0.1:\(server.port)/"))
            }
            #expect(error?.code == .tls)
        }
    }

    @Test("cancelling the calling task aborts a call the server never answers")
    func cancellation() async throws {
        try await withServer(.init(shutdownGracePeriod: .milliseconds(100))) { _ in
            try? await Task.sleep(for: .seconds(5))
            return .text("late")
        } _: { server in
            let url = "http://127.0.0.1:\(server.port)/hang"
            let call = Task { try await HTTPClient().send(HTTPClientRequest(url: url)) }
            try await Task.sleep(for: .milliseconds(100))
            call.cancel()
            let started = ContinuousClock.now
            let result = await call.result
            #expect(ContinuousClock.now - started < .seconds(3))
            guard case .failure(let error as HTTPClientError) = result else {
                Issue.record("expected an HTTPClientError, got \(result)")
                return
            }
            #expect(error.code == .cancelled)
        }
    }
}

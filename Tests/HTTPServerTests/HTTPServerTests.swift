import Foundation
import HTTPClient
import HTTPServer
import HTTPTestSupport
import HTTPTypes
import Synchronization
import Testing

/// What the echo handler saw, sent back as JSON.
private struct Echo: Codable {
    var method: String
    var path: String
    var query: [[String]]
    var header: String?
    var body: String
    var remoteAddress: String?
}

private let echo: HTTPServer.Handler = { request in
    .json(
        Echo(
            method: request.method.rawValue, path: request.path, query: request.query.map { [$0.name, $0.value] },
            header: request.headers["x-tierserve-test"], body: String(decoding: request.body, as: UTF8.self),
            remoteAddress: request.remoteAddress))
}

@Suite struct HTTPServerTests {
    let client = HTTPClient()

    @Test("method, path, decoded query, headers and body reach the handler and come back")
    func roundTrip() async throws {
        try await withServer(handler: echo) { server in
            let request = HTTPClientRequest(
                method: .patch, url: "http://127.0.0.1:\(server.port)/apis/batch/v1/jobs?watch=1&label=a%20b&flag",
                headers: ["X-Tierserve-Test": "present"], body: Array("{\"spec\":{}}".utf8))
            let response = try await client.send(request)
            #expect(response.status == .ok)
            #expect(response.headers["content-type"] == "application/json")
            let seen = try response.decodeJSON(Echo.self)
            #expect(seen.method == "PATCH")
            #expect(seen.path == "/apis/batch/v1/jobs")
            #expect(seen.query == [["watch", "1"], ["label", "a b"], ["flag", ""]])
            #expect(seen.header == "present")
            #expect(seen.body == "{\"spec\":{}}")
            #expect(seen.remoteAddress?.hasPrefix("127.0.0.1:") == true)
        }
    }

    @Test("a 50 KiB header field reaches the handler (the gateway lets heads up to 60 KiB through)")
    func largeHead() async throws {
        try await withServer(handler: echo) { server in
            let big = String(repeating: "h", count: 50 << 10)
            let request = HTTPClientRequest(
                url: "http://127.0.0.1:\(server.port)/big", headers: ["X-Tierserve-Test": big])
            let response = try await client.send(request)
            #expect(response.status == .ok)
            #expect(try response.decodeJSON(Echo.self).header == big)
        }
    }

    @Test("a body over the limit is answered 413 with a JSON message")
    func oversizeBody() async throws {
        let handlerRan = Atomic<Bool>(false)
        try await withServer(.init(maxBodySize: 1024)) { _ in
            handlerRan.store(true, ordering: .relaxed)
            return .text("should not run")
        } _: { server in
            let request = HTTPClientRequest(
                method: .post, url: "http://127.0.0.1:\(server.port)/upload", body: [UInt8](repeating: 7, count: 4096))
            let response = try await client.send(request)
            #expect(response.status == .contentTooLarge)
            #expect(response.text.contains("1024 bytes"))
            let ran = handlerRan.load(ordering: .relaxed)
            #expect(!ran)

            let small = HTTPClientRequest(method: .post, url: "http://127.0.0.1:\(server.port)/upload", body: [1, 2])
            #expect(try await client.send(small).status == .ok)
        }
    }

    @Test("the not-found and method-not-allowed helpers set status, Allow and a JSON message")
    func errorHelpers() async throws {
        try await withServer { request in
            switch (request.path, request.method) {
            case ("/jobs", .get): .text("ok")
            case ("/jobs", _): .methodNotAllowed(request.method, allowed: [.get])
            default: .notFound(path: request.path)
            }
        } _: { server in
            let missing = try await client.send(HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/nothing"))
            #expect(missing.status == .notFound)
            #expect(missing.text.contains("/nothing"))

            let wrongMethod = try await client.send(
                HTTPClientRequest(method: .delete, url: "http://127.0.0.1:\(server.port)/jobs"))
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers["Allow"] == "GET")
            #expect(wrongMethod.headers["Content-Type"] == "application/json")
        }
    }

    @Test("200 requests from 16 tasks are each answered with their own body")
    func concurrentRequests() async throws {
        try await withServer(handler: echo) { server in
            let client = self.client
            let port = server.port
            let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        var wrong = 0
                        for index in stride(from: worker, to: 200, by: 16) {
                            let request = HTTPClientRequest(
                                method: .post, url: "http://127.0.0.1:\(port)/n/\(index)", body: Array("\(index)".utf8))
                            let seen = try await client.send(request).decodeJSON(Echo.self)
                            if seen.path != "/n/\(index)" || seen.body != "\(index)" { wrong += 1 }
                        }
                        return wrong
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(mismatches == 0)
        }
    }

    @Test("stop() on an idle server returns and the port stops accepting connections")
    func stopIdle() async throws {
        let server = try HTTPServer(configuration: .init()) { _ in .text("ok") }
        let url = "http://127.0.0.1:\(server.port)/"
        #expect(try await client.send(HTTPClientRequest(url: url)).status == .ok)
        await server.stop()
        await server.stop()
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.send(HTTPClientRequest(url: url))
        }
        #expect(error?.code == .couldNotConnect)
    }

    @Test("stop() waits for a request in flight, which still gets its response")
    func stopInFlight() async throws {
        let (entered, enteredContinuation) = AsyncStream<Void>.makeStream()
        let server = try HTTPServer(configuration: .init()) { _ in
            enteredContinuation.yield()
            try? await Task.sleep(for: .milliseconds(300))
            return .text("finished")
        }
        let url = "http://127.0.0.1:\(server.port)/slow"
        let client = self.client
        let pending = Task { try await client.send(HTTPClientRequest(url: url)) }
        var iterator = entered.makeAsyncIterator()
        await iterator.next()

        let stopStarted = ContinuousClock.now
        await server.stop()
        let response = try await pending.value
        #expect(response.text == "finished")
        #expect(ContinuousClock.now - stopStarted >= .milliseconds(200))
    }

    @Test("a streamed body arrives chunk by chunk, before the handler's stream has finished")
    func streamedResponse() async throws {
        let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
        try await withServer { _ in
            let (chunks, continuation) = AsyncStream<[UInt8]>.makeStream()
            Task {
                continuation.yield(Array("{\"type\":\"ADDED\"}\n".utf8))
                var iterator = release.makeAsyncIterator()
                await iterator.next()
                continuation.yield(Array("{\"type\":\"DELETED\"}\n".utf8))
                continuation.finish()
            }
            return .stream(chunks)
        } _: { server in
            let response = try await client.stream(HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/watch"))
            #expect(response.status == .ok)
            #expect(response.headers["Transfer-Encoding"]?.lowercased() == "chunked")
            var lines = response.lines.makeAsyncIterator()
            // The first line must arrive while the server still holds back the second.
            #expect(try await lines.next() == "{\"type\":\"ADDED\"}")
            releaseContinuation.yield()
            #expect(try await lines.next() == "{\"type\":\"DELETED\"}")
            #expect(try await lines.next() == nil)
        }
    }

    @Test("stop() ends a stream that would otherwise never finish, and the producer hears of it")
    func stopEndsStream() async throws {
        let terminated = Atomic<Bool>(false)
        let server = try HTTPServer(configuration: .init()) { _ in
            let (chunks, continuation) = AsyncStream<[UInt8]>.makeStream()
            continuation.onTermination = { _ in terminated.store(true, ordering: .relaxed) }
            continuation.yield(Array("first\n".utf8))
            return .stream(chunks, contentType: "text/plain")
        }
        let response = try await client.stream(HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/follow"))
        var lines = response.lines.makeAsyncIterator()
        #expect(try await lines.next() == "first")
        await server.stop()
        #expect(try await lines.next() == nil)
        let producerTerminated = terminated.load(ordering: .relaxed)
        #expect(producerTerminated)
    }

    @Test("TLS from PEM strings serves a client that trusts the certificate")
    func tls() async throws {
        let certificate = try TestCertificate.make()
        let tls = HTTPServer.Configuration.TLS(
            certificatePEM: certificate.certificatePEM, privateKeyPEM: certificate.privateKeyPEM)
        try await withServer(.init(tls: tls), handler: echo) { server in
            let client = HTTPClient(
                configuration: .init(tls: .init(trustedCertificates: .pem(Array(certificate.certificatePEM.utf8)))))
            let response = try await client.send(HTTPClientRequest(url: "https://127.0.0.1:\(server.port)/secure"))
            #expect(try response.decodeJSON(Echo.self).path == "/secure")
        }
    }

    @Test("a host that is not an IPv4 literal is refused before anything binds")
    func invalidHost() {
        let error = #expect(throws: HTTPServerError.self) {
            _ = try HTTPServer(configuration: .init(host: "localhost")) { _ in .text("") }
        }
        #expect(error?.code == .invalidAddress)
    }
}

import Foundation
import Synchronization

/// What the C callbacks need from a server: the handler, the limits, and the bookkeeping `stop()` waits on.
///
/// `HTTPServer` retains one core for the daemon's whole life and passes it to libmicrohttpd as the callbacks'
/// context pointer; the core outlives every callback because `MHD_stop_daemon` joins all callback threads
/// before `HTTPServer` releases it.
final class ServerCore: Sendable {
    let configuration: HTTPServer.Configuration
    let handler: HTTPServer.Handler
    /// Requests whose first access-handler call has happened and whose completion has not: `stop()` waits
    /// for this to reach zero.
    private let inFlight = Atomic<Int>(0)
    /// Streamed responses still sending, by identity, so `stop()` can end them.
    private let streams = Mutex<[ObjectIdentifier: ResponseStreamPump]>([:])
    /// Handler tasks still running, by a serial number, so `stop()` can cancel those that outlast the grace period.
    private let handlerTasks = Mutex<(next: Int, running: [Int: Task<Void, Never>])>((0, [:]))
    /// C copies of the TLS PEM strings, alive as long as the core because libmicrohttpd keeps the pointers.
    private let tlsStrings: CStringPair?

    init(configuration: HTTPServer.Configuration, handler: @escaping HTTPServer.Handler) {
        self.configuration = configuration
        self.handler = handler
        self.tlsStrings = configuration.tls.map {
            CStringPair(first: $0.privateKeyPEM, second: $0.certificatePEM)
        }
    }

    var tlsKey: UnsafePointer<CChar>? { tlsStrings.map { UnsafePointer($0.first) } }
    var tlsCertificate: UnsafePointer<CChar>? { tlsStrings.map { UnsafePointer($0.second) } }

    var inFlightCount: Int { inFlight.load(ordering: .acquiring) }

    func requestStarted() {
        inFlight.add(1, ordering: .relaxed)
    }

    func requestFinished() {
        inFlight.subtract(1, ordering: .releasing)
    }

    func register(_ pump: ResponseStreamPump) {
        streams.withLock { $0[ObjectIdentifier(pump)] = pump }
    }

    func unregister(_ pump: ResponseStreamPump) {
        streams.withLock { $0[ObjectIdentifier(pump)] = nil }
    }

    /// Runs `handler` on `request` in a task that `cancelHandlers()` can reach, blocking this (connection)
    /// thread until it answers.
    func respond(to request: HTTPRequest) -> HTTPResponse {
        let answer = Mutex<HTTPResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
        let handler = self.handler
        let task = Task {
            let response = await handler(request)
            answer.withLock { $0 = response }
            done.signal()
        }
        let number = handlerTasks.withLock { tasks in
            defer { tasks.next += 1 }
            tasks.running[tasks.next] = task
            return tasks.next
        }
        done.wait()
        handlerTasks.withLock { _ = $0.running.removeValue(forKey: number) }
        return answer.withLock { $0 } ?? .error(.internalServerError, message: "the handler gave no response")
    }

    /// Cancels every running handler task; handlers that honour cancellation answer sooner.
    func cancelHandlers() {
        let tasks = handlerTasks.withLock { Array($0.running.values) }
        for task in tasks {
            task.cancel()
        }
    }

    /// Ends every streamed response; each sends its last chunk and completes its request.
    func endStreams() {
        let pumps = streams.withLock { Array($0.values) }
        for pump in pumps {
            pump.cancel()
        }
    }
}

/// Two strings copied to C memory, freed with the object.
///
/// `@unchecked Sendable`: the memory is written once in `init` and only read afterwards.
final class CStringPair: @unchecked Sendable {
    let first: UnsafeMutablePointer<CChar>
    let second: UnsafeMutablePointer<CChar>

    init(first: String, second: String) {
        self.first = strdup(first)
        self.second = strdup(second)
    }

    deinit {
        free(first)
        free(second)
    }
}

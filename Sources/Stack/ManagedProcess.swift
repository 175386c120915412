import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process of the stack, its output appended to a log file, stopped with SIGTERM and, if it
/// lingers, SIGKILL.
final class ManagedProcess: Sendable {
    let name: String
    let logURL: URL
    // Foundation's Process is not Sendable; it is only touched through its thread-safe methods here
    // (`processIdentifier`, `isRunning`, `terminationStatus`), after `run()` returned.
    private nonisolated(unsafe) let process: Process

    /// Starts `executable` with `arguments` and `environment` added to this process's own.
    init(name: String, executable: URL, arguments: [String], environment: [String: String] = [:], logURL: URL) throws {
        // Appended to, never replaced: the log of a piece that failed last time is still there after a restart.
        if !FileManager.default.fileExists(atPath: logURL.path) {
            FileManager.default.createFile(atPath: logURL.path, contents: nil)
        }
        let log = try FileHandle(forWritingTo: logURL)
        log.seekToEndOfFile()
        log.write(Data("--- \(name) started by stack up at \(Date().ISO8601Format()) ---\n".utf8))
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.name = name
        self.logURL = logURL
        self.process = process
    }

    var processIdentifier: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// "exited with status N" or "was killed by signal N", once it has ended.
    var exitDescription: String {
        guard !process.isRunning else { return "is running" }
        return process.terminationReason == .uncaughtSignal
            ? "was killed by signal \(process.terminationStatus)" : "exited with status \(process.terminationStatus)"
    }

    /// SIGTERM, then SIGKILL after `grace` if it is still running; returns once it has exited.
    func stop(grace: Duration = .seconds(5)) async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }

    /// The last lines of its log, for messages about a process that failed.
    func logTail(lines: Int = 5) -> String {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on at the moment it is picked.
enum FreePort {
    /// Whether `port` on 127.0.0.1 can be bound right now (nothing else listens there).
    static func isFree(_ port: UInt16) -> Bool {
        bound(port) != nil
    }

    static func pick() -> UInt16? {
        bound(0)
    }

    /// Binds `port` (0 for any) and returns the port bound, or nil when it cannot be bound.
    private static func bound(_ port: UInt16) -> UInt16? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        // As the pieces' own servers do: a port whose last connections linger in TIME-WAIT is free to listen on.
        var on: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { return nil }
        return UInt16(bigEndian: address.sin_port)
    }
}

import Foundation

/// A blocking TCP connection on loopback, for writing exact bytes and reading exact answers.
final class RawConnection {
    let descriptor: Int32

    /// Connects to `127.0.0.1:port`; reads give up after `timeout`.
    init(port: UInt16, timeout: Duration = .seconds(5)) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(descriptor)
            throw RawSocketError(message: "connect to \(port) failed: \(String(cString: strerror(errno)))")
        }
        RawConnection.setTimeout(descriptor, timeout)
    }

    init(descriptor: Int32, timeout: Duration = .seconds(5)) {
        self.descriptor = descriptor
        RawConnection.setTimeout(descriptor, timeout)
    }

    deinit { close(descriptor) }

    static func setTimeout(_ descriptor: Int32, _ timeout: Duration) {
        var value = timeval(
            tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes {
                Foundation.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else { return }
            sent += count
        }
    }

    /// Whether something (bytes or the end of the stream) is waiting to be read.
    var hasData: Bool {
        var byte: UInt8 = 0
        let count = recv(descriptor, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return count >= 0
    }

    /// Half-closes: the peer reads end of stream.
    func shutdownWrite() { shutdown(descriptor, Int32(SHUT_WR)) }

    /// Reads until the peer closes or the read timeout passes.
    func readToEnd() -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            guard count > 0 else { break }
            received += buffer[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Reads until `received` holds `count` complete responses, by counting status lines and framing.
    func readUntil(_ done: (String) -> Bool) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !done(String(decoding: received, as: UTF8.self)) {
            let count = read(descriptor, &buffer, buffer.count)
            guard count > 0 else { break }
            received += buffer[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}

struct RawSocketError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// An upstream that answers every connection from a script: it reads one request head (and its
/// `Content-Length` body), records it, then writes `reply` and closes or keeps the connection as told.
final class ScriptedUpstream: @unchecked Sendable {
    // @unchecked: `requests` and `connections` are guarded by `lock`; the rest is set in `init`.
    let port: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var requestsSeen: [String] = []
    private var connectionsSeen = 0

    /// - Parameters:
    ///   - reply: the bytes written after each request, given the request's head and body as text.
    ///   - closeAfterReply: whether the connection closes after each reply.
    init(closeAfterReply: Bool = false, reply: @escaping @Sendable (String) -> [UInt8]?) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var on: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        listen(listener, 64)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        startAccepting(closeAfterReply: closeAfterReply, reply: reply)
    }

    private func startAccepting(closeAfterReply: Bool, reply: @escaping @Sendable (String) -> [UInt8]?) {
        let descriptor = listener
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(descriptor, nil, nil)
                guard client >= 0 else { return }
                lock.withLock { connectionsSeen += 1 }
                Thread.detachNewThread {
                    self.serve(RawConnection(descriptor: client, timeout: .seconds(10)), closeAfterReply, reply)
                }
            }
        }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    var requests: [String] { lock.withLock { requestsSeen } }
    var connections: Int { lock.withLock { connectionsSeen } }

    private func serve(_ connection: RawConnection, _ closeAfterReply: Bool, _ reply: (String) -> [UInt8]?) {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            // One request: the head, then as many body bytes as Content-Length says.
            var request: String?
            while request == nil {
                if let end = pending.firstRange(of: Array("\r\n\r\n".utf8)) {
                    let head = String(decoding: pending[..<end.upperBound], as: UTF8.self)
                    let length =
                        head.split(separator: "\r\n").compactMap { line -> Int? in
                            let parts = line.split(separator: ":", maxSplits: 1)
                            guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                            return Int(parts[1].trimmingCharacters(in: .whitespaces))
                        }.first ?? 0
                    if pending.count >= end.upperBound + length {
                        request = String(decoding: pending[..<(end.upperBound + length)], as: UTF8.self)
                        pending.removeFirst(end.upperBound + length)
                        break
                    }
                }
                let count = read(connection.descriptor, &buffer, buffer.count)
                guard count > 0 else { return }
                pending += buffer[..<count]
            }
            guard let request else { return }
            lock.withLock { requestsSeen.append(request) }
            guard let bytes = reply(request) else { return }
            connection.send(bytes)
            if closeAfterReply { return }
        }
    }
}

/// A loopback port that was free a moment ago and is closed now: nothing listens there.
func freePort() -> UInt16 {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, length)
            return getsockname(descriptor, $0, &length)
        }
    }
    return UInt16(bigEndian: address.sin_port)
}

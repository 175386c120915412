import Foundation

/// The few socket calls the proxy makes, wrapped so that callers see Swift values instead of errno.
enum Socket {
    /// What a non-blocking read or write did.
    enum Transfer {
        /// This many bytes moved.
        case bytes(Int)
        /// The kernel has nothing to give (read) or no room (write) right now.
        case wouldBlock
        /// The peer closed its side (read only).
        case endOfStream
        /// The connection failed, with the system's reason.
        case failed(String)
    }

    static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Transfer {
        while true {
            let count = Foundation.read(descriptor, buffer.baseAddress, buffer.count)
            if count > 0 { return .bytes(count) }
            if count == 0 { return .endOfStream }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .failed(SystemError.text())
        }
    }

    static func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Transfer {
        while true {
            // MSG_NOSIGNAL: a closed peer is an error here, not a SIGPIPE for the whole process.
            let count = send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return .bytes(count) }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .failed(SystemError.text())
        }
    }

    /// Whether the next read would report the end of the stream, with no bytes before it.
    static func hasEndOfStreamOnly(_ descriptor: Int32) -> Bool {
        var byte: UInt8 = 0
        return recv(descriptor, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
    }

    /// How far writing out a buffer got.
    enum Drain {
        /// Every byte was taken.
        case done
        /// The kernel takes no more for now; the socket's next writable edge says when to go on.
        case blocked
        /// The connection failed, with the system's reason, or nil when the peer had closed it.
        case failed(String?)
    }

    /// Writes `bytes` from `sent` on, advancing `sent`, until all are taken or the kernel takes no more.
    static func drain(_ descriptor: Int32, _ bytes: [UInt8], sent: inout Int) -> Drain {
        while sent < bytes.count {
            let start = sent
            let result = bytes.withUnsafeBytes { write(descriptor, UnsafeRawBufferPointer(rebasing: $0[start...])) }
            switch result {
            case .bytes(let count): sent += count
            case .wouldBlock: return .blocked
            case .endOfStream: return .failed(nil)
            case .failed(let reason): return .failed(reason)
            }
        }
        return .done
    }

    /// Turns off Nagle's algorithm: responses are written whole, and waiting for more would only add latency.
    static func setNoDelay(_ descriptor: Int32) {
        var on: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    /// `address:port` of an IPv4 socket address.
    static func describe(_ address: sockaddr_in) -> String {
        var copy = address.sin_addr
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &copy, &text, socklen_t(INET_ADDRSTRLEN))
        let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(host):\(UInt16(bigEndian: address.sin_port))"
    }

    /// An IPv4 socket address, or nil when `host` is not an IPv4 literal.
    static func address(host: String, port: Int) -> sockaddr_in? {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(clamping: port).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
        return address
    }

    /// What a non-blocking connect did.
    enum Connect {
        /// Connected already (loopback often is).
        case connected(Int32)
        /// Under way: the socket becomes writable when it has connected or failed.
        case inProgress(Int32)
        /// Failed at once, with the system's reason.
        case failed(String)
    }

    static func connect(to address: sockaddr_in) -> Connect {
        let descriptor = socket(
            AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failed(SystemError.text()) }
        setNoDelay(descriptor)
        var target = address
        let result = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Foundation.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result == 0 { return .connected(descriptor) }
        if errno == EINPROGRESS { return .inProgress(descriptor) }
        let reason = SystemError.text()
        close(descriptor)
        return .failed(reason)
    }

    /// The error a non-blocking connect ended with, or nil when it connected.
    static func pendingError(_ descriptor: Int32) -> String? {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length) == 0 else { return SystemError.text() }
        return code == 0 ? nil : SystemError.text(code)
    }
}

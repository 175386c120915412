import CMicroHTTPD
import Foundation

/// Moves a streamed body from its `AsyncStream` to libmicrohttpd's content-reader callback.
///
/// A task iterates the stream and appends each chunk to a buffer; the content reader, on the connection's
/// own thread, blocks until there are bytes or the stream has ended. Lifetime: the response holds one
/// retain as its callback context, released by the content reader's free callback, which libmicrohttpd
/// calls when the response is done (sent, failed, or the client left).
///
/// `@unchecked Sendable`: `pending`, `readOffset` and `finished` are only touched with `condition` locked,
/// and `task` is written once in `start()` before any other thread can see the pump.
final class ResponseStreamPump: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [UInt8] = []
    private var readOffset = 0
    private var finished = false
    private var task: Task<Void, Never>?
    /// The server that lists this pump among its open streams; weak so a finished server is not kept alive.
    private(set) weak var core: ServerCore?

    init(core: ServerCore) {
        self.core = core
    }

    /// Starts pulling chunks from `chunks`.
    func start(_ chunks: AsyncStream<[UInt8]>) {
        task = Task { [weak self] in
            for await chunk in chunks {
                guard let self else { return }
                self.append(chunk)
            }
            self?.markFinished()
        }
    }

    /// Stops iterating the stream (its `onTermination` sees `.cancelled`) and lets the reader finish.
    func cancel() {
        task?.cancel()
        markFinished()
    }

    /// Copies up to `capacity` bytes into `buffer`, blocking while there are none yet.
    ///
    /// - Returns: the number of bytes copied, or `MHD_CONTENT_READER_END_OF_STREAM` once the stream ended and
    ///   everything was sent.
    func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        condition.lock()
        defer { condition.unlock() }
        while readOffset == pending.count && !finished {
            condition.wait()
        }
        let available = pending.count - readOffset
        guard available > 0 else { return -1 }  // MHD_CONTENT_READER_END_OF_STREAM, a macro Swift cannot import.
        let count = min(available, capacity)
        pending.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress else { return }
            UnsafeMutableRawPointer(buffer).copyMemory(from: base + readOffset, byteCount: count)
        }
        readOffset += count
        if readOffset == pending.count {
            pending.removeAll(keepingCapacity: true)
            readOffset = 0
        }
        return count
    }

    private func append(_ chunk: [UInt8]) {
        condition.lock()
        pending.append(contentsOf: chunk)
        condition.signal()
        condition.unlock()
    }

    private func markFinished() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}

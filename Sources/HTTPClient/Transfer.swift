import CCurl
import Foundation
import HTTPTypes
import Synchronization

/// The state of one transfer that libcurl's callbacks write into.
///
/// Lifetime: the client keeps the transfer alive for the whole of `curl_easy_perform`, and passes it to the
/// callbacks unretained as their user data; the callbacks only run inside that call.
///
/// `@unchecked Sendable`: everything but `cancelled` is touched only by the thread running
/// `curl_easy_perform` (the callbacks run on it, synchronously); `cancelled` is atomic, set from any thread.
final class Transfer: @unchecked Sendable {
    /// Set to make the next progress or write callback abort the transfer.
    let cancelled = Atomic<Bool>(false)
    /// The latest response's header fields (reset at each status line, so `100 Continue` is dropped).
    private(set) var headers = HTTPHeaders()
    /// The body so far, when not streaming.
    private(set) var body: [UInt8] = []
    /// libcurl writes its message for a failure here; `CURL_ERROR_SIZE` bytes.
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))

    /// Called once, on the perform thread, when a final response's head is complete; streaming only.
    var onHead: ((Int, HTTPHeaders) -> Void)?
    /// Called with each body piece, on the perform thread; streaming only. Returns false to stop.
    var onChunk: (([UInt8]) -> Bool)?
    private(set) var headDelivered = false
    private let easy: CurlEasy

    init(easy: CurlEasy) {
        self.easy = easy
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        errorBuffer.deallocate()
    }

    func cancel() {
        cancelled.store(true, ordering: .relaxed)
    }

    var errorMessage: String {
        let bytes = UnsafeBufferPointer(start: errorBuffer, count: Int(CURL_ERROR_SIZE))
        return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: - Callbacks, static so that no actor isolation is inferred; libcurl calls them on its thread.

    static let writeBody: curl_write_callback = { data, size, count, context in
        guard let context else { return 0 }
        let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        guard !transfer.cancelled.load(ordering: .relaxed) else { return 0 }
        let bytes = data.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
        if let onChunk = transfer.onChunk {
            transfer.deliverHeadIfNeeded()
            return onChunk(bytes) ? length : 0
        }
        transfer.body.append(contentsOf: bytes)
        return length
    }

    static let writeHeader: curl_write_callback = { data, size, count, context in
        guard let context, let data else { return 0 }
        let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        transfer.takeHeaderLine(line)
        return length
    }

    static let progress: curl_xferinfo_callback = { context, _, _, _, _ in
        guard let context else { return 0 }
        let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
        return transfer.cancelled.load(ordering: .relaxed) ? 1 : 0
    }

    private func takeHeaderLine(_ line: String) {
        if line.hasPrefix("HTTP/") {
            headers = HTTPHeaders()
            return
        }
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            if onChunk != nil && easy.responseCode() >= 200 { deliverHeadIfNeeded() }
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = String(trimmed[..<colon])
        let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        headers.add(name: name, value: value)
    }

    /// Hands the head to `onHead` the first time it is called.
    func deliverHeadIfNeeded() {
        guard !headDelivered else { return }
        headDelivered = true
        onHead?(easy.responseCode(), headers)
    }
}

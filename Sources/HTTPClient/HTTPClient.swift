import CCurl
import Foundation
import HTTPTypes
import Synchronization

/// An HTTP/1.1 client on libcurl easy handles, with a timeout on every call and typed errors.
///
/// `curl_easy_perform` blocks, so each call runs on a thread of its own, never on Swift's cooperative pool.
/// Not a dispatch queue either: libdispatch on Linux runs a concurrent queue about as wide as the CPU count
/// and adds threads for blocked work only slowly, which here made 16 concurrent calls take about a second
/// each. A thread costs tens of microseconds to start, small next to a request. Idle handles are pooled so
/// that their connections are reused.
///
/// ```swift
/// let client = HTTPClient()
/// var request = HTTPClientRequest(url: "https://127.0.0.1:6443/api/v1/namespaces")
/// request.setBearerToken(token)
/// let response = try await client.send(request)
/// ```
public final class HTTPClient: Sendable {
    /// The defaults the client was made with.
    public let configuration: Configuration
    /// Idle easy handles, most recently used last.
    private let idleHandles = Mutex<[CurlEasy]>([])

    /// A client with `configuration`.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Sends `request` and reads the whole response.
    ///
    /// Cancelling the calling task aborts the transfer within about a second (libcurl's progress interval).
    ///
    /// - Throws: `HTTPClientError` when no response arrived; an HTTP error status is a response, not a throw.
    public func send(_ request: HTTPClientRequest) async throws(HTTPClientError) -> HTTPClientResponse {
        let easy = try takeHandle(for: request.url)
        let transfer = Transfer(easy: easy)
        let timeout = request.timeout ?? configuration.timeout
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Int, HTTPClientError>, Never>) in
                Thread.detachNewThread {
                    continuation.resume(returning: self.perform(request, on: easy, with: transfer, timeout: timeout))
                }
            }
        } onCancel: {
            transfer.cancel()
        }
        returnHandle(easy)
        let status = try result.get()
        return HTTPClientResponse(status: HTTPStatus(code: status), headers: transfer.headers, body: transfer.body)
    }

    /// Sends `request` and returns as soon as the response head arrives; the body follows as a stream.
    ///
    /// The transfer ends when the body ends, when the consumer stops iterating, or after the request's timeout
    /// (`Configuration.streamTimeout` by default). Chunks are buffered without limit while the consumer lags.
    ///
    /// - Throws: `HTTPClientError` when the head did not arrive; later failures are thrown by the body stream.
    public func stream(_ request: HTTPClientRequest) async throws(HTTPClientError) -> HTTPClientStreamingResponse {
        let easy = try takeHandle(for: request.url)
        let transfer = Transfer(easy: easy)
        let timeout = request.timeout ?? configuration.streamTimeout
        let (body, bodyContinuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        bodyContinuation.onTermination = { _ in transfer.cancel() }

        let head = await withTaskCancellationHandler {
            await withCheckedContinuation {
                (continuation: CheckedContinuation<Result<(Int, HTTPHeaders), HTTPClientError>, Never>) in
                // The head continuation is resumed by whichever comes first: the head, or the end of the transfer.
                transfer.onHead = { status, headers in continuation.resume(returning: .success((status, headers))) }
                transfer.onChunk = { chunk in
                    if case .terminated = bodyContinuation.yield(chunk) { return false }
                    return true
                }
                Thread.detachNewThread {
                    let outcome = self.perform(request, on: easy, with: transfer, timeout: timeout)
                    switch outcome {
                    case .success:
                        transfer.deliverHeadIfNeeded()
                        bodyContinuation.finish()
                    case .failure(let error):
                        if !transfer.headDelivered {
                            transfer.onHead = nil
                            transfer.deliverHeadIfNeeded()
                            continuation.resume(returning: .failure(error))
                        }
                        bodyContinuation.finish(throwing: error)
                    }
                    self.returnHandle(easy)
                }
            }
        } onCancel: {
            transfer.cancel()
        }
        let (status, headers) = try head.get()
        return HTTPClientStreamingResponse(status: HTTPStatus(code: status), headers: headers, body: body)
    }

    // MARK: - Handles

    private func takeHandle(for url: String) throws(HTTPClientError) -> CurlEasy {
        if let easy = idleHandles.withLock({ $0.popLast() }) { return easy }
        guard let easy = CurlEasy() else {
            throw HTTPClientError(.other, url: url, detail: "libcurl could not allocate a handle")
        }
        return easy
    }

    private func returnHandle(_ easy: CurlEasy) {
        idleHandles.withLock { handles in
            if handles.count < configuration.maxIdleHandles { handles.append(easy) }
        }
    }

    // MARK: - The blocking part

    /// Configures `easy` for `request` and runs the transfer on the calling thread.
    ///
    /// - Returns: the final status code, or the error libcurl's result code maps to.
    private func perform(
        _ request: HTTPClientRequest, on easy: CurlEasy, with transfer: Transfer, timeout: Duration
    ) -> Result<Int, HTTPClientError> {
        curl_easy_reset(easy.handle)
        let context = Unmanaged.passUnretained(transfer).toOpaque()

        // 1. Headers live in a C list for the duration of the transfer.
        var list: UnsafeMutablePointer<curl_slist>?
        for field in request.headers {
            list = curl_slist_append(list, "\(field.name): \(field.value)")
        }
        // An empty `Expect:` stops libcurl waiting for `100 Continue` before sending a body.
        list = curl_slist_append(list, "Expect:")
        defer { curl_slist_free_all(list) }

        // 2. Options; any that libcurl rejects fails the call before it starts.
        var codes: [CURLcode] = [
            easy.set(CURLOPT_URL, request.url),
            easy.set(CURLOPT_PROTOCOLS_STR, "http,https"),
            easy.set(CURLOPT_NOSIGNAL, 1),
            easy.set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout)),
            easy.set(CURLOPT_TIMEOUT_MS, Self.milliseconds(timeout)),
            easy.set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(transfer.errorBuffer)),
            tierserve_curl_setopt_slist(easy.handle, CURLOPT_HTTPHEADER, list),
            tierserve_curl_setopt_write_function(easy.handle, CURLOPT_WRITEFUNCTION, Transfer.writeBody),
            easy.set(CURLOPT_WRITEDATA, pointer: context),
            tierserve_curl_setopt_write_function(easy.handle, CURLOPT_HEADERFUNCTION, Transfer.writeHeader),
            easy.set(CURLOPT_HEADERDATA, pointer: context),
            easy.set(CURLOPT_NOPROGRESS, 0),
            tierserve_curl_setopt_xferinfo_function(easy.handle, Transfer.progress),
            easy.set(CURLOPT_XFERINFODATA, pointer: context),
        ]
        codes += methodOptions(for: request, on: easy)
        codes += tlsOptions(on: easy)
        if let failed = codes.first(where: { $0 != CURLE_OK }) {
            return .failure(HTTPClientError(curlCode: failed, url: request.url, detail: transfer.errorMessage))
        }

        // 3. Run it.
        let code = curl_easy_perform(easy.handle)
        guard code == CURLE_OK else {
            return .failure(HTTPClientError(curlCode: code, url: request.url, detail: transfer.errorMessage))
        }
        return .success(easy.responseCode())
    }

    private func methodOptions(for request: HTTPClientRequest, on easy: CurlEasy) -> [CURLcode] {
        if request.method == .head {
            return [easy.set(CURLOPT_NOBODY, 1)]
        }
        var codes = [easy.set(CURLOPT_CUSTOMREQUEST, request.method.rawValue)]
        let sendsBody = !request.body.isEmpty || [.post, .put, .patch].contains(request.method)
        if sendsBody {
            codes.append(
                tierserve_curl_setopt_off(easy.handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            // COPYPOSTFIELDS copies the bytes during the call, so neither the array nor "" need outlive it.
            if request.body.isEmpty {
                codes.append(easy.set(CURLOPT_COPYPOSTFIELDS, ""))
            } else {
                codes.append(
                    request.body.withUnsafeBytes { buffer in
                        easy.set(CURLOPT_COPYPOSTFIELDS, pointer: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
                    })
            }
        }
        return codes
    }

    private func tlsOptions(on easy: CurlEasy) -> [CURLcode] {
        let tls = configuration.tls
        var codes: [CURLcode] = [
            easy.set(CURLOPT_SSL_VERIFYPEER, tls.verifiesPeer ? 1 : 0),
            easy.set(CURLOPT_SSL_VERIFYHOST, tls.verifiesPeer ? 2 : 0),
        ]
        switch tls.trustedCertificates {
        case .system:
            break
        case .file(let path):
            codes.append(easy.set(CURLOPT_CAINFO, path))
        case .pem(let bytes):
            codes.append(easy.set(CURLOPT_CAINFO_BLOB, blob: bytes))
        }
        if let certificate = tls.clientCertificatePEM {
            codes.append(easy.set(CURLOPT_SSLCERTTYPE, "PEM"))
            codes.append(easy.set(CURLOPT_SSLCERT_BLOB, blob: certificate))
        }
        if let key = tls.clientKeyPEM {
            codes.append(easy.set(CURLOPT_SSLKEYTYPE, "PEM"))
            codes.append(easy.set(CURLOPT_SSLKEY_BLOB, blob: key))
        }
        return codes
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}

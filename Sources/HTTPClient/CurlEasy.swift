import CCurl

/// Owns one libcurl easy handle and frees it. A handle keeps its connections open between transfers,
/// which is why the client pools these instead of making one per call.
///
/// `@unchecked Sendable`: a handle is used by one transfer at a time; it moves between threads only
/// through the client's pool, whose mutex orders the hand-over.
final class CurlEasy: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// A fresh handle, or nil when libcurl cannot allocate one.
    init?() {
        _ = CurlEasy.globalInitialization
        guard let handle = curl_easy_init() else { return nil }
        self.handle = handle
    }

    deinit {
        curl_easy_cleanup(handle)
    }

    /// `curl_global_init` must run once before any handle exists; a static `let` runs it exactly once.
    private static let globalInitialization: CURLcode = tierserve_curl_global_init()

    func set(_ option: CURLoption, _ value: Int) -> CURLcode {
        tierserve_curl_setopt_long(handle, option, value)
    }

    func set(_ option: CURLoption, _ value: String) -> CURLcode {
        tierserve_curl_setopt_string(handle, option, value)
    }

    func set(_ option: CURLoption, blob: [UInt8]) -> CURLcode {
        blob.withUnsafeBytes { tierserve_curl_setopt_blob(handle, option, $0.baseAddress, $0.count) }
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) -> CURLcode {
        tierserve_curl_setopt_pointer(handle, option, pointer)
    }

    func responseCode() -> Int {
        var code = 0
        _ = tierserve_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }
}

import CMicroHTTPD
import Foundation
import HTTPTypes
import Synchronization

/// The C callbacks handed to libmicrohttpd. They are static members with no actor isolation because
/// libmicrohttpd calls them on its own threads.
enum ServerCallbacks {
    /// libmicrohttpd's access handler: called first with the head, then once per body piece, then once with
    /// no data when the body is complete. See `RequestState` for who owns the per-request object.
    static let accessHandler: MHD_AccessHandlerCallback = {
        context, connection, url, method, _, uploadData, uploadDataSize, requestContext in
        guard let context, let connection, let uploadDataSize, let requestContext else { return .NO }
        let core = Unmanaged<ServerCore>.fromOpaque(context).takeUnretainedValue()
        let limit = core.configuration.maxBodySize

        // 1. First call: capture the head, and refuse a declared body that is too large before reading it.
        guard let existing = requestContext.pointee else {
            let state = RequestState(
                method: HTTPMethod(rawValue: method.map { String(cString: $0) } ?? "GET"),
                path: url.map { String(cString: $0) } ?? "/",
                query: values(of: connection, kind: .GET_ARGUMENT_KIND).map {
                    HTTPRequest.QueryItem(name: $0.name, value: $0.value)
                },
                headers: HTTPHeaders(values(of: connection, kind: .HEADER_KIND)),
                remoteAddress: remoteAddress(of: connection))
            requestContext.pointee = Unmanaged.passRetained(state).toOpaque()
            core.requestStarted()
            if let declared = state.headers["Content-Length"].flatMap(Int.init), declared > limit {
                state.answered = true
                return queue(tooLarge(limit: limit), on: connection, core: core, state: state)
            }
            return .YES
        }
        let state = Unmanaged<RequestState>.fromOpaque(existing).takeUnretainedValue()

        // 2. A piece of the body: keep it, unless it pushes the body past the limit.
        if uploadDataSize.pointee > 0 {
            let count = uploadDataSize.pointee
            uploadDataSize.pointee = 0
            guard !state.answered else { return .YES }
            guard state.body.count + count <= limit, let uploadData else {
                state.answered = true
                state.body = []
                return queue(tooLarge(limit: limit), on: connection, core: core, state: state)
            }
            uploadData.withMemoryRebound(to: UInt8.self, capacity: count) { bytes in
                state.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: count))
            }
            return .YES
        }

        // 3. The whole request is here: run the handler and send what it answers.
        guard !state.answered else { return .YES }
        state.answered = true
        let response = core.respond(to: state.request)
        return queue(response, on: connection, core: core, state: state)
    }

    /// Releases the request's `RequestState` once libmicrohttpd is done with the request, for any reason.
    static let requestCompleted: MHD_RequestCompletedCallback = { context, _, requestContext, _ in
        guard let context, let requestContext, let existing = requestContext.pointee else { return }
        let core = Unmanaged<ServerCore>.fromOpaque(context).takeUnretainedValue()
        Unmanaged<RequestState>.fromOpaque(existing).release()
        requestContext.pointee = nil
        core.requestFinished()
    }

    /// The content reader of a streamed response; its context is a retained `ResponseStreamPump`.
    static let streamReader: MHD_ContentReaderCallback = { context, _, buffer, capacity in
        guard let context, let buffer else { return -2 }  // MHD_CONTENT_READER_END_WITH_ERROR
        let pump = Unmanaged<ResponseStreamPump>.fromOpaque(context).takeUnretainedValue()
        return pump.read(into: buffer, capacity: capacity)
    }

    /// Called by libmicrohttpd once a streamed response is finished with; drops the response's retain.
    static let streamFreed: MHD_ContentReaderFreeCallback = { context in
        guard let context else { return }
        let pump = Unmanaged<ResponseStreamPump>.fromOpaque(context).takeRetainedValue()
        pump.cancel()
        pump.core?.unregister(pump)
    }

    // MARK: - Helpers

    private static func tooLarge(limit: Int) -> HTTPResponse {
        .error(.contentTooLarge, message: "the request body is larger than the limit of \(limit) bytes")
    }

    /// Builds the C response for `response`, queues it, and logs the request.
    private static func queue(
        _ response: HTTPResponse, on connection: OpaquePointer, core: ServerCore, state: RequestState
    ) -> MHD_Result {
        let made: OpaquePointer?
        switch response.body {
        case .bytes(let bytes):
            made = bytes.withUnsafeBytes { buffer in
                MHD_create_response_from_buffer(
                    buffer.count, UnsafeMutableRawPointer(mutating: buffer.baseAddress), .RESPMEM_MUST_COPY)
            }
        case .stream(let chunks):
            let pump = ResponseStreamPump(core: core)
            core.register(pump)
            pump.start(chunks)
            made = MHD_create_response_from_callback(
                UInt64.max, 16 * 1024, streamReader, Unmanaged.passRetained(pump).toOpaque(), streamFreed)
        }
        guard let made else { return .NO }
        defer { MHD_destroy_response(made) }
        for field in response.headers {
            _ = MHD_add_response_header(made, field.name, field.value)
        }
        let result = MHD_queue_response(connection, UInt32(response.status.code), made)
        let elapsed = ContinuousClock.now - state.started
        core.configuration.logger.debug(
            "request",
            [
                "method": state.method, "path": state.path, "status": response.status.code,
                "ms": elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000,
            ])
        return result
    }

    /// The name/value pairs libmicrohttpd holds for `connection` of one kind (headers or query arguments).
    private static func values(of connection: OpaquePointer, kind: MHD_ValueKind) -> [HTTPHeaders.Field] {
        final class Collector {
            var fields: [HTTPHeaders.Field] = []
        }
        let collector = Collector()
        // The collector lives across this synchronous call, so an unretained pointer is enough.
        _ = MHD_get_connection_values(
            connection, kind,
            { context, _, key, value in
                guard let context, let key else { return .YES }
                let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
                collector.fields.append(
                    HTTPHeaders.Field(name: String(cString: key), value: value.map { String(cString: $0) } ?? ""))
                return .YES
            }, Unmanaged.passUnretained(collector).toOpaque())
        return collector.fields
    }

    private static func remoteAddress(of connection: OpaquePointer) -> String? {
        guard let address = tierserve_mhd_client_address(connection), address.pointee.sa_family == AF_INET else {
            return nil
        }
        return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { ipv4 in
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            var inAddress = ipv4.pointee.sin_addr
            guard inet_ntop(AF_INET, &inAddress, &text, socklen_t(INET_ADDRSTRLEN)) != nil else { return nil }
            let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return "\(host):\(UInt16(bigEndian: ipv4.pointee.sin_port))"
        }
    }
}

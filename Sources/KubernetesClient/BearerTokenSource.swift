import Foundation
import Kubernetes
import Synchronization

/// Produces the bearer token for each request from the configured `Credentials`, caching what is costly to
/// get: a token file is re-read only when its identity or modification time changes, and an `exec` plugin is
/// run again only when its token is within a minute of the expiry it reported.
final class BearerTokenSource: Sendable {
    private struct FileStamp: Equatable {
        var device: UInt64
        var inode: UInt64
        var seconds: Int
        var nanoseconds: Int
    }

    private enum Cached {
        case file(token: String, stamp: FileStamp)
        case plugin(token: String, expiry: Date?)
    }

    private let credentials: Credentials
    /// The last token read and what says whether it is still current.
    private let cache = Mutex<Cached?>(nil)

    init(credentials: Credentials) {
        self.credentials = credentials
    }

    /// The token to send, or nil for none.
    func token() async throws(KubernetesConfigurationError) -> String? {
        switch credentials {
        case .none:
            return nil
        case .token(let token):
            return token
        case .tokenFile(let path):
            return try fileToken(path: path)
        case .exec(let command):
            let now = Date()
            let cached: String? = cache.withLock { cached in
                guard case .plugin(let token, let expiry) = cached else { return nil }
                if let expiry, expiry.timeIntervalSince(now) < 60 { return nil }
                return token
            }
            if let cached { return cached }
            let (token, expiry) = try await ExecCredentialPlugin.run(command)
            cache.withLock { $0 = .plugin(token: token, expiry: expiry) }
            return token
        }
    }

    private func fileToken(path: String) throws(KubernetesConfigurationError) -> String {
        // `stat` follows symbolic links, so a projected token swapped in through `..data` shows a new inode.
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw KubernetesConfigurationError(
                .unreadableFile, field: path, message: "the token file cannot be read (errno \(errno))")
        }
        #if os(Linux)
            let modified = info.st_mtim
        #else
            let modified = info.st_mtimespec
        #endif
        let stamp = FileStamp(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), seconds: Int(modified.tv_sec),
            nanoseconds: Int(modified.tv_nsec))
        let cached: String? = cache.withLock { cached in
            guard case .file(let token, let cachedStamp) = cached, cachedStamp == stamp else { return nil }
            return token
        }
        if let cached { return cached }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubernetesConfigurationError(.unreadableFile, field: path, message: "the token file cannot be read")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw KubernetesConfigurationError(.invalidValue, field: path, message: "the token file is empty")
        }
        cache.withLock { $0 = .file(token: token, stamp: stamp) }
        return token
    }
}

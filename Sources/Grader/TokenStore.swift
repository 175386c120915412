import Digests
import Foundation
import Synchronization

/// The bearer tokens the grader accepts, kept as SHA-256 hashes in a JSON file, each under an id that the
/// audit trail records as the request's principal.
///
/// The file is `{"tokens": [{"id": "local", "sha256": "<64 hex digits>", "created_at": "..."}]}`, written with
/// mode 0600. Tokens themselves are never stored: each is shown once, when it is made. The file is read again
/// when its modification time changes, so `grader token add` takes effect without a restart.
public final class TokenStore: Sendable {
    /// One token's record in the file.
    struct Record: Codable, Sendable, Equatable {
        var id: String
        var sha256: String
        var createdAt: String

        enum CodingKeys: String, CodingKey {
            case id, sha256
            case createdAt = "created_at"
        }
    }

    private struct File: Codable {
        var tokens: [Record]
    }

    /// The file the tokens live in.
    public let path: String
    /// The hashes by token id, and the file's modification time when they were read; the mutex guards both.
    private let state: Mutex<(ids: [String: String], modified: Date?)>

    /// Opens the tokens file at `path`.
    ///
    /// - Throws: `GraderConfigurationError` when the file is missing or does not parse.
    public init(path: String) throws(GraderConfigurationError) {
        self.path = path
        let (records, modified) = try Self.read(path)
        state = Mutex((Self.index(records), modified))
    }

    /// Opens the tokens file at `path`, first creating it with one fresh token called `defaultID` when there is
    /// no such file.
    ///
    /// - Returns: the store, and the new token when one was made: show it once, it is not kept.
    /// - Throws: `GraderConfigurationError`.
    public static func openCreatingDefault(
        path: String, defaultID: String = "local"
    ) throws(GraderConfigurationError) -> (store: TokenStore, createdToken: String?) {
        guard !FileManager.default.fileExists(atPath: path) else { return (try TokenStore(path: path), nil) }
        let token = makeToken()
        try write([Record(id: defaultID, sha256: SHA256.hexDigest(token), createdAt: timestamp())], to: path)
        return (try TokenStore(path: path), token)
    }

    /// Adds a token called `id` to the file at `path` (creating the file if needed).
    ///
    /// - Returns: the token; it is shown once and not kept.
    /// - Throws: `GraderConfigurationError` when `id` is taken or malformed, or the file cannot be written.
    public static func addToken(id: String, path: String) throws(GraderConfigurationError) -> String {
        guard id.wholeMatch(of: /[A-Za-z0-9][A-Za-z0-9._-]{0,62}/) != nil else {
            throw GraderConfigurationError(
                "token name \"\(id)\" must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        }
        let records = FileManager.default.fileExists(atPath: path) ? try read(path).records : []
        guard !records.contains(where: { $0.id == id }) else {
            throw GraderConfigurationError("a token called \"\(id)\" already exists in \(path); choose another name")
        }
        let token = makeToken()
        try write(records + [Record(id: id, sha256: SHA256.hexDigest(token), createdAt: timestamp())], to: path)
        return token
    }

    /// The id of the token `token`, or nil when the file holds no such token.
    public func principal(forToken token: String) -> String? {
        reloadIfChanged()
        let hash = SHA256.hexDigest(token)
        // Lookup is by hash, so timing reveals at most something about the hash, never the token.
        return state.withLock { $0.ids[hash] }
    }

    /// The token ids, sorted.
    public var ids: [String] {
        state.withLock { $0.ids.values.sorted() }
    }

    /// A fresh token: 32 random bytes from the system's secure generator, in hexadecimal.
    static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return SHA256.hex((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    private func reloadIfChanged() {
        let modified = Self.modificationDate(path)
        guard modified != state.withLock({ $0.modified }) else { return }
        // A file that went bad keeps the tokens last read: failing open to "no tokens" would lock everyone out,
        // and accepting removed tokens for a moment is the lesser harm; the next good write is picked up.
        guard let (records, readModified) = try? Self.read(path) else { return }
        state.withLock { $0 = (Self.index(records), readModified) }
    }

    private static func index(_ records: [Record]) -> [String: String] {
        Dictionary(records.map { ($0.sha256.lowercased(), $0.id) }, uniquingKeysWith: { first, _ in first })
    }

    private static func read(_ path: String) throws(GraderConfigurationError) -> (records: [Record], modified: Date?) {
        let modified = modificationDate(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GraderConfigurationError(
                "cannot read the tokens file \(path); create it with `grader token add NAME`")
        }
        do {
            return (try JSONDecoder().decode(File.self, from: data).tokens, modified)
        } catch {
            throw GraderConfigurationError(
                "the tokens file \(path) is not {\"tokens\": [{\"id\", \"sha256\", \"created_at\"}]}: \(error)")
        }
    }

    private static func write(_ records: [Record], to path: String) throws(GraderConfigurationError) {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            // Written beside the file and renamed over it, so a reader never sees half a file; 0600 from the start.
            let temporary = path + ".tmp-\(getpid())"
            guard
                FileManager.default.createFile(
                    atPath: temporary, contents: try encoder.encode(File(tokens: records)),
                    attributes: [.posixPermissions: 0o600])
            else {
                throw GraderConfigurationError("cannot write \(temporary)")
            }
            guard rename(temporary, path) == 0 else {
                unlink(temporary)
                throw GraderConfigurationError("cannot replace \(path) (errno \(errno))")
            }
        } catch let error as GraderConfigurationError {
            throw error
        } catch {
            throw GraderConfigurationError("cannot write the tokens file \(path): \(error)")
        }
    }

    private static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601)
    }
}

import Digests
import Foundation
import SQLite
import Synchronization

/// Bearer tokens: issues them (the admin's and one per ServiceAccount), writes them where clients read them,
/// and maps a presented token to its user.
///
/// Only SHA-256 digests of tokens are stored in the database; the plaintext lives in the files the token's
/// user reads, shaped like the in-cluster mount: `<state>/serviceaccounts/<ns>/<sa>/{token,ca.crt,namespace}`
/// and `<state>/admin.token`.
final class Credentials: Sendable {
    let stateDirectory: URL
    let database: SQLiteDatabase
    let caCertificatePEM: String
    /// Token digest to user, mirrored from the `tokens` table so a request costs one hash and one lookup.
    private let users: Mutex<[String: UserInfo]>

    init(stateDirectory: URL, database: SQLiteDatabase, caCertificatePEM: String) throws {
        self.stateDirectory = stateDirectory
        self.database = database
        self.caCertificatePEM = caCertificatePEM
        var users: [String: UserInfo] = [:]
        for row in try database.query("SELECT hash, user, groups FROM tokens") {
            let groups = try row.string("groups").split(separator: ",").map(String.init)
            users[try row.string("hash")] = UserInfo(name: try row.string("user"), groups: groups)
        }
        self.users = Mutex(users)
    }

    /// The user a bearer token belongs to, or nil when it is not one the cluster issued.
    func authenticate(token: String) -> UserInfo? {
        let digest = SHA256.hexDigest(token)
        return users.withLock { $0[digest] }
    }

    /// The admin token from `<state>/admin.token`, made on first use.
    func adminToken() throws -> String {
        try ensureToken(file: stateDirectory.appendingPathComponent("admin.token"), user: .admin)
    }

    /// Makes sure service account `name` in `namespace` has a token and its mount-shaped files.
    @discardableResult
    func ensureServiceAccountToken(namespace: String, name: String) throws -> String {
        let directory = stateDirectory.appendingPathComponent("serviceaccounts/\(namespace)/\(name)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(caCertificatePEM.utf8).write(to: directory.appendingPathComponent("ca.crt"), options: .atomic)
        try Data(namespace.utf8).write(to: directory.appendingPathComponent("namespace"), options: .atomic)
        return try ensureToken(
            file: directory.appendingPathComponent("token"), user: .serviceAccount(namespace: namespace, name: name))
    }

    /// Writes `<state>/kubeconfig` for the admin user against `server`.
    func writeKubeconfig(server: String, insecure: Bool) throws {
        let token = try adminToken()
        let authority =
            insecure ? "" : "    certificate-authority-data: \(Data(caCertificatePEM.utf8).base64EncodedString())\n"
        let text = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: local-cluster
              cluster:
                server: \(server)
            \(authority)users:
            - name: system-admin
              user:
                token: \(token)
            contexts:
            - name: local-cluster
              context:
                cluster: local-cluster
                user: system-admin
                namespace: default
            current-context: local-cluster

            """
        let file = stateDirectory.appendingPathComponent("kubeconfig")
        try Data(text.utf8).write(to: file, options: .atomic)
        chmod(file.path, 0o600)
    }

    /// The token in `file` when the database knows it, else a new one written there; either way registered
    /// for `user`.
    private func ensureToken(file: URL, user: UserInfo) throws -> String {
        if let existing = try? String(contentsOf: file, encoding: .utf8), !existing.isEmpty {
            let digest = SHA256.hexDigest(existing)
            if users.withLock({ $0[digest] }) == user { return existing }
            try register(digest: digest, user: user)
            return existing
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let token = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        try register(digest: SHA256.hexDigest(token), user: user)
        try Data(token.utf8).write(to: file, options: .atomic)
        chmod(file.path, 0o600)
        return token
    }

    private func register(digest: String, user: UserInfo) throws {
        try database.run(
            "INSERT OR REPLACE INTO tokens (hash, user, groups) VALUES (?, ?, ?)",
            [.text(digest), .text(user.name), .text(user.groups.joined(separator: ","))])
        users.withLock { $0[digest] = user }
    }
}

import Audit
import Foundation
import HTTPClient
import HTTPTypes
import SQLite
import Testing
import YAML

@testable import Grader

enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `grader` executable built beside the test bundle.
    static var graderBinary: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for directory in [
            besideTests, besideTests.deletingLastPathComponent(), packageRoot.appendingPathComponent(".build/debug"),
        ] {
            let candidate = directory.appendingPathComponent("grader")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return packageRoot.appendingPathComponent(".build/debug/grader")
    }

    /// A fresh temporary directory for `body`, removed afterwards.
    static func withTemporaryDirectory(_ body: (URL) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("grader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await body(directory)
    }
}

/// The exit status and output of one run of the `grader` executable.
struct CommandResult {
    var status: Int32
    var standardOutput: String
    var standardError: String

    static func run(_ arguments: [String]) throws -> CommandResult {
        let process = Process()
        process.executableURL = Paths.graderBinary
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorData, as: UTF8.self))
    }
}

@Suite struct GraderSetupTests {
    @Test("Grader/grader.yaml maps free and premium to their namespaces and quotas")
    func defaultConfiguration() throws {
        let configuration = try GraderConfiguration.load(
            path: Paths.packageRoot.appendingPathComponent("Grader/grader.yaml").path)
        #expect(configuration.tiers["free"] == .init(name: "free", namespace: "free-service", quota: "free-tier-quota"))
        #expect(
            configuration.tiers["premium"]
                == .init(name: "premium", namespace: "premium-service", quota: "premium-tier-quota"))
        #expect(configuration.tiers.count == 2)
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 5000)
        #expect(configuration.requestTimeout < .seconds(2))
    }

    @Test(
        "a configuration with a misspelt key or a bad value is refused, naming the key",
        arguments: [
            ("tiers: {free: {namespace: free-service, quota: q}}\nlisten: 127.0.0.1:5000\ntokenfile: x", "tokenfile"),
            ("tiers: {free: {namespace: Free_Service, quota: q}}", "tiers.free.namespace"),
            ("tiers: {free: {namespace: free-service, quota: q, extra: 1}}", "extra"),
            ("tiers: {}", "tiers is missing"),
            ("tiers: {free: {namespace: free-service, quota: q}}\nlisten: localhost", "listen"),
            ("tiers: {free: {namespace: free-service, quota: q}}\nretention: {maxRows: 0}", "retention.maxRows"),
        ])
    func badConfiguration(yaml: String, mentions: String) {
        #expect {
            try GraderConfiguration.parse(yaml: yaml, source: "test.yaml")
        } throws: { error in
            (error as? GraderConfigurationError)?.message.contains(mentions) == true
        }
    }

    @Test("a default token is made when there is no tokens file; only its hash is stored, mode 0600")
    func defaultToken() async throws {
        try await Paths.withTemporaryDirectory { (directory) async throws in
            let path = directory.appendingPathComponent("state/tokens.json").path
            let (store, created) = try TokenStore.openCreatingDefault(path: path)
            let token = try #require(created)
            #expect(token.wholeMatch(of: /[0-9a-f]{64}/) != nil)
            #expect(store.principal(forToken: token) == "local")
            #expect(store.principal(forToken: "wrong") == nil)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(!text.contains(token))
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600)

            // Opening again makes no new token.
            #expect(try TokenStore.openCreatingDefault(path: path).createdToken == nil)
        }
    }

    @Test("a token added while the grader runs is accepted without a restart; names are unique")
    func addToken() async throws {
        try await Paths.withTemporaryDirectory { (directory) async throws in
            let path = directory.appendingPathComponent("tokens.json").path
            let (store, _) = try TokenStore.openCreatingDefault(path: path)
            // File times can be coarse; make sure the rewrite is seen as a change.
            try await Task.sleep(for: .milliseconds(20))
            let token = try TokenStore.addToken(id: "autograder", path: path)
            try FileManager.default.setAttributes(
                [.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: path)
            #expect(store.principal(forToken: token) == "autograder")
            #expect(throws: GraderConfigurationError.self) { try TokenStore.addToken(id: "autograder", path: path) }
            #expect(throws: GraderConfigurationError.self) { try TokenStore.addToken(id: "bad name", path: path) }
        }
    }

    @Test("through the real server: headers, remote address and user agent reach the audit trail")
    func endToEnd() async throws {
        try await Harness.run { (harness) async throws in
            harness.cluster.update { $0.jobs["free-service"] = [Objects.job("e2e")] }
            let running = try harness.grader.start()
            do {
                let client = HTTPClient()
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(running.port)/free/jobs/e2e")
                request.setBearerToken(harness.token)
                request.headers["User-Agent"] = "autograder/1.0"
                let response = try await client.send(request)
                #expect(response.status == .ok)
                #expect(response.headers["Content-Type"] == "application/json")
                #expect(response.headers["x-request-id"] != nil)

                let denied = try await client.send(
                    HTTPClientRequest(method: .delete, url: "http://127.0.0.1:\(running.port)/free/jobs/e2e"))
                #expect(denied.status == .unauthorized)

                let records = try harness.audit.records()
                #expect(records.count == 2)
                #expect(records[0].entry.userAgent == "autograder/1.0")
                #expect(records[0].entry.remoteAddress.hasPrefix("127.0.0.1:"))
                #expect(records[0].entry.responseBytes == response.body.count)
                #expect(records[0].entry.requestID == response.headers["x-request-id"])
                #expect(records[1].entry.method == "DELETE")
            } catch {
                await running.stop()
                throw error
            }
            await running.stop()
        }
    }

    @Test("the grader's Role grants exactly read verbs on what the grader reads, in each tier namespace")
    func roleIsReadOnly() throws {
        let text = try String(
            contentsOf: Paths.packageRoot.appendingPathComponent("Grader/manifests/rbac.yaml"), encoding: .utf8)
        let documents = try YAMLParser.parseDocuments(text)
        let roles = documents.filter { $0["kind"]?.stringValue == "Role" }
        #expect(
            Set(roles.compactMap { $0["metadata"]?["namespace"]?.stringValue }) == ["free-service", "premium-service"])
        #expect(!documents.contains { ["ClusterRole", "ClusterRoleBinding"].contains($0["kind"]?.stringValue) })
        for role in roles {
            guard case .sequence(let rules)? = role["rules"] else {
                Issue.record("a Role has no rules")
                continue
            }
            var granted: Set<String> = []
            for rule in rules {
                for group in strings(rule["apiGroups"]) {
                    for resource in strings(rule["resources"]) {
                        for verb in strings(rule["verbs"]) { granted.insert("\(group)|\(resource)|\(verb)") }
                    }
                }
            }
            let verbs = Set(granted.map { $0.split(separator: "|", omittingEmptySubsequences: false)[2] })
            #expect(verbs.isSubset(of: ["get", "list", "watch"]))
            let used = Set(Grader.requiredPermissions.map { "\($0.group)|\($0.resource)|\($0.verb)" })
            #expect(used.isSubset(of: granted), "missing: \(used.subtracting(granted).sorted())")
            let resources = Set(
                granted.map { $0.split(separator: "|", omittingEmptySubsequences: false)[0...1].joined(separator: "|") }
            )
            #expect(resources == ["batch|jobs", "|pods", "|pods/log", "|resourcequotas"])
        }
    }

    func strings(_ value: YAMLValue?) -> [String] {
        guard case .sequence(let items)? = value else { return [] }
        return items.compactMap(\.stringValue)
    }
}

@Suite struct GraderCommandTests {
    @Test("grader audit verify exits 0 on an intact chain and 1 naming the first bad row")
    func verifyExitCodes() async throws {
        try await Paths.withTemporaryDirectory { (directory) async throws in
            let path = directory.appendingPathComponent("audit.sqlite").path
            do {
                let store = try AuditStore(path: path)
                for index in 1...6 {
                    try store.append(
                        AuditEntry(
                            requestID: "r\(index)", receivedAt: Date(), completedAt: Date(), method: "GET",
                            path: "/free/jobs", principal: "autograder", status: 200))
                }
            }
            let intact = try CommandResult.run(["audit", "verify", "--db", path])
            #expect(intact.status == 0, "\(intact.standardError)")
            #expect(intact.standardOutput.contains("6 rows"))

            let listing = try CommandResult.run(["audit", "--db", path, "--status", "200", "--path", "/free"])
            #expect(listing.status == 0)
            #expect(listing.standardOutput.split(separator: "\n").count == 7)
            let json = try CommandResult.run(["audit", "--db", path, "--json", "--limit", "2"])
            let decoded = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [[String: Any]]
            #expect(decoded?.count == 2)

            let raw = try SQLiteDatabase(path: path)
            try raw.execute("UPDATE audit_entries SET status = 403 WHERE id = 4")
            let broken = try CommandResult.run(["audit", "verify", "--db", path])
            #expect(broken.status == 1)
            #expect(broken.standardError.contains("row 4"))
        }
    }

    @Test(
        "bad flags print one line on standard error and exit 2",
        arguments: [
            ["audit", "--bogus"], ["audit", "verify", "--db"], ["serve", "--listen"], ["frobnicate"], [],
            ["audit", "--status", "abc", "--db", "/dev/null"], ["token", "add"],
        ])
    func badFlags(arguments: [String]) throws {
        let result = try CommandResult.run(arguments)
        #expect(result.status == 2)
        #expect(result.standardError.split(separator: "\n").count == 1)
        #expect(result.standardError.hasPrefix("grader: error: "))
    }

    @Test("grader token add prints a new token once and stores only its hash")
    func tokenAdd() async throws {
        try await Paths.withTemporaryDirectory { (directory) async throws in
            let path = directory.appendingPathComponent("tokens.json").path
            let result = try CommandResult.run(["token", "add", "autograder", "--token-file", path])
            #expect(result.status == 0)
            let token = result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(token.wholeMatch(of: /[0-9a-f]{64}/) != nil)
            #expect(try TokenStore(path: path).principal(forToken: token) == "autograder")
            #expect(try !String(contentsOfFile: path, encoding: .utf8).contains(token))
            let again = try CommandResult.run(["token", "add", "autograder", "--token-file", path])
            #expect(again.status == 1)
        }
    }
}

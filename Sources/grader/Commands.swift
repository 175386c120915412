import Audit
import CommandLineOptions
import Foundation
import Grader
import KubernetesClient
import Logging

/// The grader's commands; `main.swift` picks one from the first argument.
enum Commands {
    static let usage = """
        usage: grader serve --config FILE [--listen HOST:PORT] [--server URL --token-file F [--ca-file F] | --context NAME]
               grader audit [--since TIME] [--path P] [--status N] [--limit N] [--json] [--db FILE | --config FILE]
               grader audit verify [--db FILE | --config FILE]
               grader token add NAME [--token-file FILE | --config FILE]
        """

    static let defaultConfiguration = "Grader/grader.yaml"

    /// Prints `grader: error: MESSAGE` on standard error and exits with `code`.
    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("grader: error: \(message)\n".utf8))
        exit(code)
    }

    // MARK: - serve

    static func serve(_ arguments: [String]) throws {
        let options = try CommandLineOptions(
            arguments,
            values: ["config", "listen", "server", "token-file", "ca-file", "context", "log-level"])
        try noPositional(options)
        guard let level = LogLevel(name: options.value("log-level") ?? "info") else {
            throw CommandLineError("--log-level must be debug, info, warning or error")
        }
        var configuration = try GraderConfiguration.load(path: options.value("config") ?? defaultConfiguration)
        if let listen = options.value("listen") {
            do {
                (configuration.host, configuration.port) = try GraderConfiguration.parseListen(listen, at: "--listen")
            } catch {
                throw CommandLineError(error.message)
            }
        }
        let kubernetes = try kubernetesConfiguration(options)

        let logger = Logger(label: "grader", level: level)
        let (tokens, createdToken) = try TokenStore.openCreatingDefault(path: configuration.tokenFile)
        if let createdToken {
            // Shown once: only its hash is kept. Standard output, so it can be captured apart from the log.
            FileHandle.standardOutput.write(
                Data("grader: created \(configuration.tokenFile) with token \"local\": \(createdToken)\n".utf8))
        }
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: configuration.auditDatabase).deletingLastPathComponent(),
            withIntermediateDirectories: true)
        let audit = try AuditStore(path: configuration.auditDatabase, retention: configuration.retention)
        let grader = Grader(
            configuration: configuration,
            client: KubernetesClient(configuration: kubernetes, timeout: configuration.requestTimeout),
            tokens: tokens, audit: audit, logger: logger)
        let running = try grader.start()

        SignalWaiter.waitThenStop(stopping: { logger.info("stopping", ["signal": $0]) }) { await running.stop() }
    }

    private static func kubernetesConfiguration(_ options: CommandLineOptions) throws -> KubernetesConfiguration {
        guard let server = options.value("server") else {
            if options.value("token-file") != nil || options.value("ca-file") != nil {
                throw CommandLineError("--token-file and --ca-file go with --server URL")
            }
            return try KubernetesConfiguration.resolve(context: options.value("context"))
        }
        guard let tokenPath = options.value("token-file") else {
            throw CommandLineError("--server needs --token-file FILE holding the service account token")
        }
        var certificateAuthority: [UInt8]?
        if let path = options.value("ca-file") {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CommandLineError("cannot read --ca-file \(path)")
            }
            certificateAuthority = [UInt8](data)
        }
        var configuration = KubernetesConfiguration(server: server, certificateAuthorityPEM: certificateAuthority)
        configuration.credentials = .tokenFile(path: tokenPath)
        return configuration
    }

    // MARK: - audit

    static func listAudit(_ arguments: [String]) throws {
        let options = try CommandLineOptions(
            arguments, values: ["since", "path", "status", "limit", "db", "config"], flags: ["json"])
        try noPositional(options)
        var filter = AuditFilter(path: options.value("path"))
        if let since = options.value("since") { filter.since = try parseSince(since) }
        if options.value("status") != nil { filter.status = try options.integer("status", in: 100...599, default: 0) }
        filter.limit = try options.integer("limit", in: 1...1_000_000, default: 100)

        let records = try openAudit(options).records(matching: filter)
        if options.flag("json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
            encoder.dateEncodingStrategy = .custom { date, encoder in
                var container = encoder.singleValueContainer()
                try container.encode(timestamp(date))
            }
            print(String(decoding: try encoder.encode(records), as: UTF8.self))
            return
        }
        print(table(records))
    }

    static func verifyAudit(_ arguments: [String]) throws -> Int32 {
        let options = try CommandLineOptions(arguments, values: ["db", "config"])
        try noPositional(options)
        let store = try openAudit(options)
        let verification = try store.verify()
        guard let failure = verification.firstBreak else {
            let head = try store.records(matching: AuditFilter(limit: 1)).last
            print(
                "audit chain verified: \(verification.checkedRows) rows, ids \(verification.anchorID + 1) to "
                    + "\(verification.headID), head hash \(head?.hash ?? AuditStore.genesisHash)")
            return 0
        }
        FileHandle.standardError.write(
            Data("grader: audit chain broken at row \(failure.rowID): \(failure.description)\n".utf8))
        return 1
    }

    private static func openAudit(_ options: CommandLineOptions) throws -> AuditStore {
        let path: String
        if let database = options.value("db") {
            path = database
        } else {
            path = try GraderConfiguration.load(path: options.value("config") ?? defaultConfiguration).auditDatabase
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandLineError("no audit database at \(path); pass --db FILE or --config FILE")
        }
        return try AuditStore(path: path)
    }

    /// RFC 3339 (`2026-05-01T12:00:00Z`) or an age such as `90s`, `15m`, `2h`, `7d`.
    private static func parseSince(_ text: String) throws(CommandLineError) -> Date {
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let unit = text.last, let scale = units[unit], let count = Double(text.dropLast()), count >= 0 {
            return Date().addingTimeInterval(-count * scale)
        }
        throw CommandLineError(
            "--since \(text) is neither an RFC 3339 time like 2026-05-01T12:00:00Z nor an age like 15m")
    }

    private static func table(_ records: [AuditRecord]) -> String {
        let header = ["ID", "RECEIVED", "PRINCIPAL", "METHOD", "STATUS", "MS", "PATH", "READ"]
        var rows = [header]
        for record in records {
            let entry = record.entry
            let path = entry.path + (entry.query.isEmpty ? "" : "?" + entry.query)
            let read = [entry.namespace, entry.kind, entry.name].filter { !$0.isEmpty }.joined(separator: "/")
            rows.append([
                String(record.id), timestamp(entry.receivedAt), entry.principal.isEmpty ? "-" : entry.principal,
                entry.method, String(entry.status), String(format: "%.1f", Double(entry.durationMicroseconds) / 1000),
                path, read.isEmpty ? "-" : read,
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    private static func timestamp(_ date: Date) -> String {
        date.formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    // MARK: - token add

    static func addToken(_ arguments: [String]) throws {
        let options = try CommandLineOptions(arguments, values: ["token-file", "config"])
        guard options.positional.count == 1, let name = options.positional.first else {
            throw CommandLineError("token add takes one NAME, such as: grader token add autograder")
        }
        let path =
            try options.value("token-file")
            ?? GraderConfiguration.load(path: options.value("config") ?? defaultConfiguration).tokenFile
        let token = try TokenStore.addToken(id: name, path: path)
        // The only time the token is shown: the file keeps its hash.
        print(token)
    }

    private static func noPositional(_ options: CommandLineOptions) throws(CommandLineError) {
        if let extra = options.positional.first {
            throw CommandLineError("unexpected argument \"\(extra)\"; see grader --help")
        }
    }
}

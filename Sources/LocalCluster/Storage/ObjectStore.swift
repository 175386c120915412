import Foundation
import Kubernetes
import SQLite

/// Every object of the local cluster, in one SQLite database (WAL) with a global resource-version counter.
///
/// A write runs in one `BEGIN IMMEDIATE` transaction on the locked connection: whatever the body reads
/// (quota usage, an existing name) cannot change before it commits, which is what keeps concurrent creates
/// inside a quota. After the commit, still under the lock, the changes go to the `WatchHub` in order. A
/// request is answered only after its transaction commits, so anything acknowledged survives a crash of the
/// process (WAL with `synchronous = NORMAL`: durable across process death, not across power loss).
final class ObjectStore: Sendable {
    /// The database: objects, the counter, the change log, logs, tokens and running processes.
    let database: SQLiteDatabase
    /// Receives each committed change.
    let hub: WatchHub
    /// Timestamps new objects.
    let clock: any ClusterClock

    /// Opens (creating) the store at `path`.
    ///
    /// - Throws: `SQLiteError` when the file cannot be opened or the schema cannot be created.
    init(path: String, clock: any ClusterClock, historyCapacity: Int = 10_000) throws(SQLiteError) {
        let database = try SQLiteDatabase(path: path)
        try database.execute(Self.schema)
        let rows = try database.query("SELECT value FROM counters WHERE name = 'resourceVersion'")
        let current = try rows.first?.int64("value") ?? 0
        self.database = database
        self.hub = WatchHub(currentVersion: current, capacity: historyCapacity)
        self.clock = clock
    }

    private static let schema = """
        CREATE TABLE IF NOT EXISTS objects (
            resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, uid TEXT NOT NULL,
            owner_uid TEXT, resource_version INTEGER NOT NULL, body TEXT NOT NULL,
            PRIMARY KEY (resource, namespace, name));
        CREATE INDEX IF NOT EXISTS objects_by_owner ON objects (resource, owner_uid);
        CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT OR IGNORE INTO counters (name, value) VALUES ('resourceVersion', 0);
        CREATE TABLE IF NOT EXISTS changes (
            resource_version INTEGER PRIMARY KEY, type TEXT NOT NULL, resource TEXT NOT NULL,
            namespace TEXT NOT NULL, name TEXT NOT NULL, phase TEXT, at REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS logs (
            id INTEGER PRIMARY KEY AUTOINCREMENT, pod_uid TEXT NOT NULL, container TEXT NOT NULL,
            data BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS logs_by_container ON logs (pod_uid, container, id);
        CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, user TEXT NOT NULL, groups TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS processes (
            pod_uid TEXT NOT NULL, container TEXT NOT NULL, pid INTEGER NOT NULL, PRIMARY KEY (pod_uid, container));
        """

    /// Runs `body` in one transaction and publishes its changes after the commit.
    ///
    /// - Throws: whatever `body` throws (nothing is written then), or a `Status` for a database failure.
    func write<Result: Sendable>(_ body: (StoreTransaction) throws -> Result) throws -> Result {
        try database.withConnection { (connection) throws -> Result in
            let transaction = StoreTransaction(connection: connection, now: clock.now)
            let result = try connection.transaction { _ in try body(transaction) }
            hub.publish(transaction.events)
            return result
        }
    }

    /// Runs `body` with read access and no transaction.
    func read<Result: Sendable>(_ body: (StoreTransaction) throws -> Result) throws -> Result {
        try database.withConnection { (connection) throws -> Result in
            try body(StoreTransaction(connection: connection, now: clock.now))
        }
    }

    /// The last committed resource version.
    func currentResourceVersion() throws -> Int64 {
        try read { try $0.currentResourceVersion() }
    }
}

/// Reads and writes inside one `ObjectStore` transaction. Lives only inside `write`/`read`, on the thread
/// holding the database lock.
final class StoreTransaction {
    /// The locked connection.
    let connection: SQLiteConnection
    /// The time of this transaction, for timestamps.
    let now: Date
    /// The changes written so far, published after the commit.
    private(set) var events: [ChangeEvent] = []

    init(connection: SQLiteConnection, now: Date) {
        self.connection = connection
        self.now = now
    }

    /// The object `name` of `type` in `namespace` (empty for cluster-scoped), or nil.
    func get(_ type: ResourceType, namespace: String, name: String) throws -> KubernetesObject? {
        let rows = try connection.query(
            "SELECT body FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
            [.text(type.qualifiedName), .text(namespace), .text(name)])
        return try rows.first.map { try Self.decode($0) }
    }

    /// True when the object is stored; cheaper than `get`, which parses it.
    func exists(_ type: ResourceType, namespace: String, name: String) throws -> Bool {
        try !connection.query(
            "SELECT 1 FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
            [.text(type.qualifiedName), .text(namespace), .text(name)]
        ).isEmpty
    }

    /// Every object of `type`, in `namespace` or in all namespaces when nil, ordered by namespace and name.
    func list(_ type: ResourceType, namespace: String? = nil) throws -> [KubernetesObject] {
        let rows: [SQLiteRow]
        if let namespace {
            rows = try connection.query(
                "SELECT body FROM objects WHERE resource = ? AND namespace = ? ORDER BY name",
                [.text(type.qualifiedName), .text(namespace)])
        } else {
            rows = try connection.query(
                "SELECT body FROM objects WHERE resource = ? ORDER BY namespace, name", [.text(type.qualifiedName)])
        }
        return try rows.map { try Self.decode($0) }
    }

    /// The objects of `type` whose controlling owner has `ownerUID`.
    func listOwned(_ type: ResourceType, ownerUID: String) throws -> [KubernetesObject] {
        let rows = try connection.query(
            "SELECT body FROM objects WHERE resource = ? AND owner_uid = ? ORDER BY name",
            [.text(type.qualifiedName), .text(ownerUID)])
        return try rows.map { try Self.decode($0) }
    }

    /// How many objects of `type` are in `namespace`.
    func count(_ type: ResourceType, namespace: String) throws -> Int {
        let rows = try connection.query(
            "SELECT count(*) AS n FROM objects WHERE resource = ? AND namespace = ?",
            [.text(type.qualifiedName), .text(namespace)])
        return Int(try rows.first?.int64("n") ?? 0)
    }

    /// The last committed (or, inside a write, last assigned) resource version.
    func currentResourceVersion() throws -> Int64 {
        try connection.query("SELECT value FROM counters WHERE name = 'resourceVersion'").first?.int64("value") ?? 0
    }

    /// Stores a new object, giving it a uid, a resource version and a creation timestamp.
    ///
    /// - Throws: `Status` AlreadyExists when the name is taken.
    func insert(_ type: ResourceType, _ object: KubernetesObject) throws -> KubernetesObject {
        var object = object
        if try exists(type, namespace: object.namespace, name: object.name) {
            throw Status.alreadyExists(resource: type.resource, group: type.group, name: object.name)
        }
        if object.uid.isEmpty {
            object.raw.setMetadata("uid", .string(UUID().uuidString.lowercased()))
        }
        object.raw.setMetadata("creationTimestamp", .string(KubernetesTime(now).description))
        return try store(type, object, kind: .added)
    }

    /// Replaces a stored object with `object`, giving it a new resource version.
    ///
    /// - Throws: `Status` NotFound when it is not stored.
    func replace(_ type: ResourceType, _ object: KubernetesObject) throws -> KubernetesObject {
        guard try exists(type, namespace: object.namespace, name: object.name) else {
            throw Status.notFound(resource: type.resource, group: type.group, name: object.name)
        }
        return try store(type, object, kind: .modified)
    }

    /// Removes an object and returns it as it was, or nil when there was none.
    @discardableResult
    func delete(_ type: ResourceType, namespace: String, name: String) throws -> KubernetesObject? {
        guard var object = try get(type, namespace: namespace, name: name) else { return nil }
        try connection.run(
            "DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
            [.text(type.qualifiedName), .text(namespace), .text(name)])
        let version = try nextResourceVersion()
        object.raw.setMetadata("resourceVersion", .string(String(version)))
        try recordChange(.deleted, type, object, version: version)
        return object
    }

    private func store(_ type: ResourceType, _ object: KubernetesObject, kind: ChangeEvent.Kind) throws
        -> KubernetesObject
    {
        var object = object
        let version = try nextResourceVersion()
        object.raw.setMetadata("resourceVersion", .string(String(version)))
        let body = String(decoding: JSONCodec.serialize(object.raw), as: UTF8.self)
        try connection.run(
            """
            INSERT OR REPLACE INTO objects (resource, namespace, name, uid, owner_uid, resource_version, body)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(type.qualifiedName), .text(object.namespace), .text(object.name), .text(object.uid),
                SQLiteValue(object.controllerUID), .integer(version), .text(body),
            ])
        try recordChange(kind, type, object, version: version)
        return object
    }

    private func nextResourceVersion() throws -> Int64 {
        let rows = try connection.query(
            "UPDATE counters SET value = value + 1 WHERE name = 'resourceVersion' RETURNING value")
        guard let version = try rows.first?.int64("value") else {
            throw Status.internalError("the resource version counter is missing from the database")
        }
        return version
    }

    /// Appends to the change log (one row per write, with a pod's phase) and to the events to publish.
    private func recordChange(
        _ kind: ChangeEvent.Kind, _ type: ResourceType, _ object: KubernetesObject, version: Int64
    )
        throws
    {
        let phase = type == .pods ? object.raw.value(atPath: "status.phase")?.stringValue : nil
        try connection.run(
            "INSERT INTO changes (resource_version, type, resource, namespace, name, phase, at) VALUES (?,?,?,?,?,?,?)",
            [
                .integer(version), .text(kind.rawValue), .text(type.qualifiedName), .text(object.namespace),
                .text(object.name), SQLiteValue(phase), .real(now.timeIntervalSince1970),
            ])
        events.append(ChangeEvent(kind: kind, type: type, resourceVersion: version, object: object))
    }

    private static func decode(_ row: SQLiteRow) throws -> KubernetesObject {
        KubernetesObject(raw: try JSONCodec.parse(Array(try row.string("body").utf8)))
    }
}

import Foundation
import Testing
import YAML

@Suite struct YAMLTests {
    private let manifest = """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: tier-free
          labels: {tier: free, managed-by: tierserve}
        ---
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: train
          namespace: tier-free
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: train
                image: tierserve/train:1.0
                command: ["python", "-m", "train"]
                args:
                - --epochs
                - "2"
                resources:
                  limits: {cpu: 500m, memory: 1Gi}
        ---
        """

    @Test("a multi-document manifest parses to one value per document, keys in order")
    func multiDocument() throws {
        let documents = try YAMLParser.parseDocuments(manifest)
        #expect(documents.count == 3)
        #expect(documents[2] == .null)
        guard case .mapping(let entries) = documents[1] else {
            Issue.record("expected the Job to be a mapping")
            return
        }
        #expect(entries.map(\.key) == ["apiVersion", "kind", "metadata", "spec"])
        let container = documents[1]["spec"]?["template"]?["spec"]?["containers"]?[0]
        #expect(container?["command"] == .sequence([.string("python"), .string("-m"), .string("train")]))
        #expect(container?["args"]?[1] == .string("2"))
        #expect(container?["resources"]?["limits"]?["cpu"] == .string("500m"))
        #expect(documents[1]["spec"]?["backoffLimit"] == .int(0))
        #expect(documents[0]["metadata"]?["labels"]?["managed-by"] == .string("tierserve"))
    }

    @Test(
        "plain scalars resolve by YAML 1.1 rules; quoted and tagged ones keep their text",
        arguments: [
            ("v: 2", YAMLValue.int(2)),
            ("v: \"2\"", .string("2")),
            ("v: '2'", .string("2")),
            ("v: !!str 2", .string("2")),
            ("v: -17", .int(-17)),
            ("v: 0x1F", .int(31)),
            ("v: 017", .int(15)),
            ("v: 1_000", .int(1000)),
            ("v: 1:30", .int(90)),
            ("v: 2.5", .double(2.5)),
            ("v: 1e3", .double(1000)),
            ("v: -.inf", .double(-.infinity)),
            ("v: yes", .bool(true)),
            ("v: Off", .bool(false)),
            ("v: \"yes\"", .string("yes")),
            ("v: true", .bool(true)),
            ("v: ~", .null),
            ("v:", .null),
            ("v: null", .null),
            ("v: \"null\"", .string("null")),
            ("v: 500m", .string("500m")),
            ("v: 1.2.3", .string("1.2.3")),
            ("v: !!int \"42\"", .int(42)),
            ("v: |\n  line one\n  2\n", .string("line one\n2\n")),
        ])
    func scalarResolution(yaml: String, expected: YAMLValue) throws {
        #expect(try YAMLParser.parseDocument(yaml)["v"] == expected)
    }

    @Test("anchors and aliases copy values, and merge keys fill in what a mapping lacks")
    func anchorsAndAliases() throws {
        let yaml = """
            defaults: &defaults
              cpu: 500m
              memory: 1Gi
            shared: &name trainer
            jobs:
            - name: *name
              limits: *defaults
            - name: big
              limits:
                <<: *defaults
                memory: 4Gi
            """
        let document = try YAMLParser.parseDocument(yaml)
        #expect(document["jobs"]?[0]?["name"] == .string("trainer"))
        #expect(document["jobs"]?[0]?["limits"] == document["defaults"])
        #expect(
            document["jobs"]?[1]?["limits"]
                == .mapping([.init(key: "memory", value: .string("4Gi")), .init(key: "cpu", value: .string("500m"))]))
    }

    @Test("a syntax error names its line and column")
    func syntaxError() {
        let yaml = "metadata:\n  name: ok\n  labels: [a, b\nspec: {}\n"
        let error = #expect(throws: YAMLError.self) { try YAMLParser.parseDocuments(yaml) }
        #expect(error?.code == .syntax)
        #expect(error?.line == 4)
        #expect(error?.description.hasPrefix("line 4, column") == true)
    }

    @Test("an alias to an anchor not yet defined is a typed error with its line")
    func undefinedAlias() {
        let error = #expect(throws: YAMLError.self) { try YAMLParser.parseDocuments("a: 1\nb: *missing\n") }
        #expect(error?.code == .undefinedAlias)
        #expect(error?.line == 2)
    }

    @Test("a repeated key is refused, naming the key and its line")
    func duplicateKey() {
        let error = #expect(throws: YAMLError.self) { try YAMLParser.parseDocuments("a: 1\nb: 2\na: 3\n") }
        #expect(error?.code == .duplicateKey)
        #expect(error?.line == 3)
        #expect(error?.message.contains("a") == true)
    }

    private struct Job: Decodable, Equatable {
        struct Metadata: Decodable, Equatable { var name: String; var labels: [String: String]? }
        var kind: String
        var metadata: Metadata
    }

    @Test("decodeAll reads each non-empty document into a Decodable type through JSON")
    func decodeAll() throws {
        let objects = try YAMLDecoder().decodeAll(Job.self, from: manifest)
        #expect(objects.map(\.kind) == ["Namespace", "Job"])
        #expect(objects[0].metadata.labels == ["tier": "free", "managed-by": "tierserve"])
    }

    @Test("a document that does not fit the type names the document")
    func decodingMismatch() {
        let yaml = "kind: Job\nmetadata: {name: a}\n---\nkind: Job\nmetadata: {name: [1]}\n"
        #expect {
            _ = try YAMLDecoder().decodeAll(Job.self, from: yaml)
        } throws: { error in
            guard case YAMLDecoder.Failure.decoding(_, let document) = error else { return false }
            return document == 1
        }
    }

    @Test("JSON output escapes strings and keeps key order")
    func jsonOutput() throws {
        let value = try YAMLParser.parseDocument("z: \"a\\\"b\\n\"\na: [1, 2.5, true, null]\n")
        let json = String(decoding: try value.jsonData(), as: UTF8.self)
        #expect(json == #"{"z":"a\"b\n","a":[1,2.5,true,null]}"#)
    }
}

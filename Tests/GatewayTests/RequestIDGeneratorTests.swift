import Foundation
import Testing

@testable import Gateway

@Suite struct RequestIDGeneratorTests {
    @Test("ids are version-4 UUIDs in lower case, and 20,000 drawn from two threads never repeat")
    func uniqueAndWellFormed() async throws {
        let generator = RequestIDGenerator()
        let batches = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<2 { group.addTask { (0..<10_000).map { _ in generator.next() } } }
            var all: [[String]] = []
            for await batch in group { all.append(batch) }
            return all
        }
        let ids = batches.flatMap { $0 }
        #expect(Set(ids).count == 20_000)
        for id in ids.prefix(100) {
            let uuid = try #require(UUID(uuidString: id), "\(id)")
            #expect(uuid.uuidString.lowercased() == id)
            let groups = id.split(separator: "-")
            #expect(groups[2].first == "4", "version 4: \(id)")
            #expect("89ab".contains(groups[3].first ?? "x"), "RFC 4122 variant: \(id)")
        }
    }
}

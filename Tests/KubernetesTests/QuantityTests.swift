import Foundation
import Kubernetes
import Testing

@Suite struct QuantityTests {
    @Test(
        "quantities parse to exact milli-values",
        arguments: [
            ("2", 2000), ("500m", 500), ("0.5", 500), ("1.5", 1500), ("100u", 1), ("1k", 1_000_000),
            ("1Ki", 1_024_000), ("1Gi", 1_073_741_824_000), ("1e3", 1_000_000), ("5E-3", 5), ("-250m", -250),
            ("0", 0), ("+1", 1000), ("1.5Gi", 1_610_612_736_000), ("2M", 2_000_000_000),
        ] as [(String, Int)])
    func milliValues(text: String, milli: Int) throws {
        #expect(try Quantity(text).milliValue == Int128(milli))
    }

    @Test("comparison is by value, whatever the suffix")
    func comparison() throws {
        #expect(try Quantity("1") == Quantity("1000m"))
        #expect(try Quantity("1Gi") > Quantity("1G"))
        #expect(try Quantity("500m") < Quantity("1"))
        #expect(try Quantity("1024Mi") == Quantity("1Gi"))
        #expect(try [Quantity("2"), Quantity("500m"), Quantity("1")].max()?.text == "2")
    }

    @Test("sums keep the left operand's format and are written canonically")
    func arithmetic() throws {
        #expect(try (Quantity("500m") + Quantity("1500m")).text == "2")
        #expect(try (Quantity("1Gi") + Quantity("512Mi")).text == "1536Mi")
        #expect(try (Quantity("250m") + Quantity("250m")).text == "500m")
        #expect(try (Quantity("2") - Quantity("2")).isZero)
        #expect(try (Quantity("1") + Quantity("1")).value == 2)
    }

    @Test("values finer than a nano round up, as the API server rounds them")
    func roundsUp() throws {
        #expect(try Quantity("0.0000000001").nanoValue == 1)
        #expect(try Quantity("1500m").value == 2)
    }

    @Test(
        "text that is not a quantity is a typed error naming it", arguments: ["", "abc", "1.2.3", "5 Gi", "1Zi", "m"])
    func invalid(text: String) {
        let error = #expect(throws: KubernetesError.self) { try Quantity(text) }
        #expect(error?.code == .invalidQuantity)
        #expect(error?.message.contains("\"\(text)\"") == true)
    }

    @Test("a quantity encodes back to the exact text it was decoded from")
    func codableRoundTrip() throws {
        let json = Data(#"{"cpu":"500m","memory":"1Gi","pods":"10","nvidia.com/gpu":1}"#.utf8)
        let decoded = try JSONDecoder().decode([String: Quantity].self, from: json)
        #expect(decoded["memory"] == (try Quantity("1024Mi")))
        #expect(decoded["nvidia.com/gpu"]?.value == 1)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(decoded), as: UTF8.self)
        #expect(text == #"{"cpu":"500m","memory":"1Gi","nvidia.com\/gpu":"1","pods":"10"}"#)
    }
}

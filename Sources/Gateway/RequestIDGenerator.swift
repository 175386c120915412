import Synchronization

/// Request ids in UUID version 4 form (`7c9e6679-7425-40de-944b-e07fc1f90ae7`), as Envoy generates them.
///
/// The bits come from SplitMix64 seeded once from the system's generator: ids only have to be unique, not
/// secret, and `UUID()` costs an open, a read and a close of `/dev/urandom` per call, which showed up in the
/// gateway's profile. SplitMix64's state only ever advances by a constant, so the event loops share it
/// through one atomic add, without a lock.
final class RequestIDGenerator: Sendable {
    private let state: Atomic<UInt64>
    private static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    init() {
        var system = SystemRandomNumberGenerator()
        state = Atomic(system.next())
    }

    func next() -> String {
        // Two steps of the generator: the state after each is what gets mixed.
        let first = state.wrappingAdd(2 &* Self.gamma, ordering: .relaxed).oldValue &+ Self.gamma
        let high = Self.mix(first)
        let low = Self.mix(first &+ Self.gamma)
        // Version 4 in the third group's first digit, the RFC 4122 variant in the fourth group's.
        let versioned = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let variant = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        var text = [UInt8]()
        text.reserveCapacity(36)
        Self.appendHex(versioned >> 32, digits: 8, to: &text)
        text.append(UInt8(ascii: "-"))
        Self.appendHex(versioned >> 16, digits: 4, to: &text)
        text.append(UInt8(ascii: "-"))
        Self.appendHex(versioned, digits: 4, to: &text)
        text.append(UInt8(ascii: "-"))
        Self.appendHex(variant >> 48, digits: 4, to: &text)
        text.append(UInt8(ascii: "-"))
        Self.appendHex(variant, digits: 12, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    private static func mix(_ state: UInt64) -> UInt64 {
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    private static func appendHex(_ value: UInt64, digits: Int, to text: inout [UInt8]) {
        let alphabet = Array("0123456789abcdef".utf8)
        for position in stride(from: digits - 1, through: 0, by: -1) {
            text.append(alphabet[Int((value >> (UInt64(position) * 4)) & 0xF)])
        }
    }
}

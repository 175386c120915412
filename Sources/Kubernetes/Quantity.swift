/// A Kubernetes resource quantity such as `"2"`, `"500m"`, `"1Gi"` or `"1e3"`, compared by value.
///
/// The value is held exactly in units of 10⁻⁹ (nano) as an `Int128`, which covers every suffix from `n` to
/// `Ei` without rounding except for digits finer than a nano, which round up as Kubernetes does. The text a
/// quantity was parsed from is kept, so decoding then encoding gives back the same string.
public struct Quantity: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// How a quantity is written, which also decides how sums are written.
    public enum Format: Sendable, Hashable {
        /// Powers of 1000: `n`, `u`, `m`, none, `k`, `M`, `G`, `T`, `P`, `E`.
        case decimalSI
        /// Powers of 1024: `Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei`.
        case binarySI
        /// A decimal exponent: `1e3`, `5E-3`.
        case decimalExponent
    }

    /// The value times 10⁹.
    public let nanoValue: Int128
    /// The suffix family this quantity was written in.
    public let format: Format
    /// The text the quantity is written as.
    public let text: String

    /// Parses `text`.
    ///
    /// - Throws: `KubernetesError` `.invalidQuantity` naming the text when it is not a quantity.
    public init(_ text: String) throws(KubernetesError) {
        guard let (nanos, format) = Self.parse(text) else {
            throw KubernetesError(
                .invalidQuantity,
                message: "\"\(text)\" is not a quantity; write a number with an optional suffix such as 500m, 2 or 1Gi")
        }
        self.nanoValue = nanos
        self.format = format
        self.text = text
    }

    /// A quantity of `nanoValue` × 10⁻⁹, written canonically in `format`.
    public init(nanoValue: Int128, format: Format = .decimalSI) {
        self.nanoValue = nanoValue
        self.format = format
        self.text = Self.canonicalText(nanoValue, format: format)
    }

    /// A whole number of units (cores, bytes, pods).
    public init(integer: Int64, format: Format = .decimalSI) {
        self.init(nanoValue: Int128(integer) * Self.nano, format: format)
    }

    /// The value in thousandths, rounded up: 500 for `"500m"`, 2000 for `"2"`.
    public var milliValue: Int128 { Self.divideRoundingUp(nanoValue, by: 1_000_000) }

    /// The value in whole units, rounded up: 1073741824 for `"1Gi"`, 1 for `"500m"`.
    public var value: Int128 { Self.divideRoundingUp(nanoValue, by: Self.nano) }

    /// The value as a `Double`, for display and ratios.
    public var doubleValue: Double { Double(nanoValue) / 1e9 }

    /// True for zero.
    public var isZero: Bool { nanoValue == 0 }

    /// The text.
    public var description: String { text }

    /// Equal when the values are equal, however they are written (`"1"` == `"1000m"`).
    public static func == (lhs: Quantity, rhs: Quantity) -> Bool { lhs.nanoValue == rhs.nanoValue }

    /// Hashes the value only, consistent with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(nanoValue) }

    /// Orders by value.
    public static func < (lhs: Quantity, rhs: Quantity) -> Bool { lhs.nanoValue < rhs.nanoValue }

    /// The sum, written in the left operand's format.
    public static func + (lhs: Quantity, rhs: Quantity) -> Quantity {
        Quantity(nanoValue: lhs.nanoValue + rhs.nanoValue, format: lhs.format)
    }

    /// The difference, written in the left operand's format.
    public static func - (lhs: Quantity, rhs: Quantity) -> Quantity {
        Quantity(nanoValue: lhs.nanoValue - rhs.nanoValue, format: lhs.format)
    }

    /// Zero.
    public static let zero = Quantity(nanoValue: 0)

    /// Decodes from a JSON string (or, leniently, a number, as some clients send `cpu: 2`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text: String
        if let string = try? container.decode(String.self) {
            text = string
        } else if let integer = try? container.decode(Int64.self) {
            text = String(integer)
        } else {
            text = String(try container.decode(Double.self))
        }
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    /// Encodes as its text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    // MARK: - Parsing

    private static let nano: Int128 = 1_000_000_000

    private static func parse(_ text: String) -> (Int128, Format)? {
        // 1. Split into sign, digits (with at most one dot) and suffix.
        var characters = Substring(text)
        var negative = false
        if let first = characters.first, first == "+" || first == "-" {
            negative = first == "-"
            characters = characters.dropFirst()
        }
        let numberEnd = characters.firstIndex { !($0.isASCII && ($0.isNumber || $0 == ".")) } ?? characters.endIndex
        let number = characters[..<numberEnd]
        let suffix = characters[numberEnd...]
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard !number.isEmpty, number != ".", parts.count <= 2, number.count <= 40 else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard let mantissa = Int128(parts[0] + fraction) else { return nil }

        // 2. The suffix as a power of ten and a power of two.
        let format: Format
        var decimalExponent = 0
        var binaryExponent = 0
        switch suffix {
        case "n": (format, decimalExponent) = (.decimalSI, -9)
        case "u": (format, decimalExponent) = (.decimalSI, -6)
        case "m": (format, decimalExponent) = (.decimalSI, -3)
        case "": (format, decimalExponent) = (.decimalSI, 0)
        case "k": (format, decimalExponent) = (.decimalSI, 3)
        case "M": (format, decimalExponent) = (.decimalSI, 6)
        case "G": (format, decimalExponent) = (.decimalSI, 9)
        case "T": (format, decimalExponent) = (.decimalSI, 12)
        case "P": (format, decimalExponent) = (.decimalSI, 15)
        case "E": (format, decimalExponent) = (.decimalSI, 18)
        case "Ki": (format, binaryExponent) = (.binarySI, 10)
        case "Mi": (format, binaryExponent) = (.binarySI, 20)
        case "Gi": (format, binaryExponent) = (.binarySI, 30)
        case "Ti": (format, binaryExponent) = (.binarySI, 40)
        case "Pi": (format, binaryExponent) = (.binarySI, 50)
        case "Ei": (format, binaryExponent) = (.binarySI, 60)
        default:
            guard let first = suffix.first, first == "e" || first == "E", let exponent = Int(suffix.dropFirst()),
                (-30...30).contains(exponent)
            else { return nil }
            (format, decimalExponent) = (.decimalExponent, exponent)
        }

        // 3. nanos = mantissa × 2^binary × 10^(9 + decimal − fraction digits), rounding a remainder up.
        var numerator = mantissa << binaryExponent
        var denominator: Int128 = 1
        let tens = 9 + decimalExponent - fraction.count
        for _ in 0..<abs(tens) {
            if tens > 0 {
                let (product, overflow) = numerator.multipliedReportingOverflow(by: 10)
                guard !overflow else { return nil }
                numerator = product
            } else {
                denominator *= 10
                guard denominator < Int128(10).power(30) else { return nil }
            }
        }
        guard numerator >= 0, numerator <= Int128.max >> 1 else { return nil }
        let nanos = divideRoundingUp(numerator, by: denominator)
        return (negative ? -nanos : nanos, format)
    }

    private static func divideRoundingUp(_ value: Int128, by divisor: Int128) -> Int128 {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder > 0 ? quotient + 1 : quotient
    }

    // MARK: - Formatting

    private static func canonicalText(_ nanos: Int128, format: Format) -> String {
        let sign = nanos < 0 ? "-" : ""
        let magnitude = nanos.magnitude
        if format == .binarySI, magnitude % UInt128(nano) == 0 {
            let units = magnitude / UInt128(nano)
            for (suffix, shift) in [("Ei", 60), ("Pi", 50), ("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10)]
            where units != 0 && units % (UInt128(1) << shift) == 0 {
                return "\(sign)\(units >> shift)\(suffix)"
            }
            return "\(sign)\(units)"
        }
        let suffixes: [(String, Int)] = [
            ("E", 27), ("P", 24), ("T", 21), ("G", 18), ("M", 15), ("k", 12), ("", 9), ("m", 6), ("u", 3), ("n", 0),
        ]
        guard magnitude != 0 else { return "0" }
        for (suffix, digits) in suffixes {
            let scale = UInt128(10).power(digits)
            if magnitude % scale == 0 {
                return "\(sign)\(magnitude / scale)\(suffix)"
            }
        }
        return "\(sign)\(magnitude)n"
    }
}

extension FixedWidthInteger {
    /// `self` raised to `exponent` (small, non-negative exponents only).
    fileprivate func power(_ exponent: Int) -> Self {
        var result: Self = 1
        for _ in 0..<exponent { result *= self }
        return result
    }
}

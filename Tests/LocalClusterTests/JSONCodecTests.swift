import Foundation
import Kubernetes
import Testing

@testable import LocalCluster

/// The direct JSON parser and writer agree with Foundation's.
@Suite struct JSONCodecTests {
    @Test(
        "parsing matches JSONValue's Codable parse",
        arguments: [
            #"{"a":[1,-2,3.5,1e3,true,false,null],"b":{"c":"d\"e\\f\n\u00e9\ud83d\ude00/"},"e":""}"#,
            #"  [ ]  "#, #"{"big":9223372036854775807,"neg":-0.25}"#, #""plain""#,
        ])
    func parse(text: String) throws {
        let direct = try JSONCodec.parse(Array(text.utf8))
        let foundation = try JSONValue(json: Data(text.utf8))
        #expect(direct == foundation)
        #expect(try JSONCodec.parse(JSONCodec.serialize(direct)) == direct)
    }

    @Test(
        "malformed input is a syntax error, not a crash",
        arguments: ["{", "[1,]", "{\"a\" 1}", "tru", "\"abc", "-", "{} x"])
    func malformed(text: String) {
        #expect(throws: JSONCodec.SyntaxError.self) { try JSONCodec.parse(Array(text.utf8)) }
    }

    @Test("output sorts keys and escapes control characters")
    func serialize() {
        let value = JSONValue.object(["b": .integer(1), "a": .string("x\u{1}y/z")])
        #expect(String(decoding: JSONCodec.serialize(value), as: UTF8.self) == #"{"a":"x\u0001y/z","b":1}"#)
    }
}

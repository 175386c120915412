import Foundation

/// Decodes `Decodable` types from YAML by way of JSON: YAML is parsed to `YAMLValue`, written as JSON, and
/// read with a `JSONDecoder`, so the types' JSON coding (the Kubernetes types' in particular) applies as is.
public struct YAMLDecoder: Sendable {
    /// Why decoding failed.
    public enum Failure: Error, Sendable {
        /// The YAML did not parse, or has no JSON form.
        case yaml(YAMLError)
        /// The value does not fit the type; `document` counts from 0.
        case decoding(DecodingError, document: Int)
    }

    /// Builds the `JSONDecoder` used for each call, so date and key strategies can be set.
    public var makeJSONDecoder: @Sendable () -> JSONDecoder

    /// A decoder; by default a plain `JSONDecoder`.
    public init(makeJSONDecoder: @escaping @Sendable () -> JSONDecoder = { JSONDecoder() }) {
        self.makeJSONDecoder = makeJSONDecoder
    }

    /// Decodes the single document in `text`.
    ///
    /// - Throws: `Failure`; a text with zero or several documents is `.yaml` with code `.documentCount`.
    public func decode<T: Decodable>(_ type: T.Type, from text: String) throws(Failure) -> T {
        let document: YAMLValue
        do {
            document = try YAMLParser.parseDocument(text)
        } catch {
            throw .yaml(error)
        }
        return try decode(type, value: document, document: 0)
    }

    /// Decodes every non-empty document in `text`, as `kubectl apply -f` reads a multi-document manifest;
    /// documents that are empty or `null` are skipped.
    ///
    /// - Throws: `Failure`, naming the document that did not fit.
    public func decodeAll<T: Decodable>(_ type: T.Type, from text: String) throws(Failure) -> [T] {
        let documents: [YAMLValue]
        do {
            documents = try YAMLParser.parseDocuments(text)
        } catch {
            throw .yaml(error)
        }
        var decoded: [T] = []
        for (index, document) in documents.enumerated() where document != .null {
            decoded.append(try decode(type, value: document, document: index))
        }
        return decoded
    }

    private func decode<T: Decodable>(_ type: T.Type, value: YAMLValue, document: Int) throws(Failure) -> T {
        let data: Data
        do {
            data = try value.jsonData()
        } catch {
            throw .yaml(error)
        }
        do {
            return try makeJSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw .decoding(error, document: document)
        } catch {
            // JSONDecoder reports malformed input as DecodingError too; the JSON here is always well formed.
            throw .decoding(
                DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(error)")), document: document)
        }
    }
}

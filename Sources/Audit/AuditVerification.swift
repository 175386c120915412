/// The outcome of checking the audit trail's hash chain.
public struct AuditVerification: Sendable, Equatable {
    /// Where and why the chain first fails.
    public struct Break: Sendable, Equatable, CustomStringConvertible {
        /// What is wrong at `rowID`.
        public enum Reason: Sendable, Equatable {
            /// The row's fields no longer hash to its stored hash: it was edited.
            case contentChanged
            /// The row's `previous_hash` is not the hash of the row before it (or of the anchor).
            case brokenLink
            /// Row ids jump: the rows from `expectedID` up to this one's are missing (deleted).
            case missingRows(expectedID: Int64)
            /// The chain's recorded head is past the last row: rows at the end were deleted.
            case missingTail(lastStoredID: Int64)
            /// Rows follow the chain's recorded head: they were inserted without going through the store.
            case unrecordedRow
        }

        /// The first row that fails; for `missingTail`, the id of the head the chain recorded.
        public var rowID: Int64
        /// Why it fails.
        public var reason: Reason

        /// A sentence naming the row and the reason.
        public var description: String {
            switch reason {
            case .contentChanged:
                "row \(rowID) was changed: its fields do not hash to its stored hash"
            case .brokenLink:
                "row \(rowID) does not follow the row before it: its previous_hash is not that row's hash"
            case .missingRows(let expectedID):
                expectedID == rowID - 1
                    ? "row \(expectedID) is missing: the chain jumps from row \(expectedID - 1) to row \(rowID)"
                    : "rows \(expectedID) to \(rowID - 1) are missing: the chain jumps to row \(rowID)"
            case .missingTail(let lastStoredID):
                "rows after \(lastStoredID) are missing: the chain's head is row \(rowID)"
            case .unrecordedRow:
                "row \(rowID) was not appended by the audit store: it follows the chain's recorded head"
            }
        }
    }

    /// How many rows were checked.
    public var checkedRows: Int
    /// The id of the last pruned row, whose hash the first kept row follows; 0 when nothing was pruned.
    public var anchorID: Int64
    /// The id of the last row, as the chain recorded it.
    public var headID: Int64
    /// The first failure, or nil when the whole chain verifies.
    public var firstBreak: Break?

    /// True when every row verifies.
    public var isValid: Bool { firstBreak == nil }
}

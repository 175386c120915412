import Foundation

/// The system's words for an errno value.
enum SystemError {
    static func text(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }
}

import Foundation

/// Number formatting for the printed figures (one place, so every line rounds the same way).
enum Format {
    /// `value` with `digits` decimals.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }
}

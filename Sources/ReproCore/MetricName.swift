/// The one rule for metric names, shared by the spec's claims, the worker's metric parser and the
/// coordinator's result check, so a claim can only name a metric a run is able to report.
public enum MetricName {
    /// `[A-Za-z_][A-Za-z0-9_.-]{0,63}`: safe as a JSON key, a CSV column and a `REPRO_METRIC` name.
    public static func isValid(_ name: some StringProtocol) -> Bool {
        let scalars = name.unicodeScalars
        guard let first = scalars.first, (1...64).contains(scalars.count) else { return false }
        func isLetter(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("A"..."Z").contains(s) }
        guard isLetter(first) || first == "_" else { return false }
        return scalars.dropFirst().allSatisfy {
            isLetter($0) || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0)
        }
    }

    /// The rule in words, for error messages.
    public static let rule = "must be 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or '_'"
}

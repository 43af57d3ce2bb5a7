/// A whole number of seconds written the way people write time limits: `90s`, `10m`, `1h30m`, `2d`.
public struct DurationValue: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The duration in seconds.
    public var seconds: Int

    /// Creates a duration of `seconds`.
    public init(seconds: Int) {
        self.seconds = seconds
    }

    private static let units: [(suffix: Character, seconds: Int)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]

    /// Parses `90s`, `10m`, `1h30m`, `1d2h`, or bare digits as seconds; nil for anything else.
    ///
    /// Units must appear from largest to smallest and at most once each, so `30m1h` (almost always
    /// a typo) is refused rather than guessed at.
    public init?(parsing text: String) {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { return nil }
        if trimmed.allSatisfy(\.isASCIIDigit) {
            guard let seconds = Int(trimmed) else { return nil }
            self.seconds = seconds
            return
        }
        var total = 0
        var digits = ""
        var nextUnit = 0
        for character in trimmed {
            if character.isASCIIDigit {
                digits.append(character)
                continue
            }
            guard !digits.isEmpty, let value = Int(digits),
                let position = Self.units[nextUnit...].firstIndex(where: { $0.suffix == character })
            else { return nil }
            let (product, overflow) = value.multipliedReportingOverflow(by: Self.units[position].seconds)
            let (sum, sumOverflow) = total.addingReportingOverflow(product)
            guard !overflow, !sumOverflow else { return nil }
            total = sum
            digits = ""
            nextUnit = position + 1
        }
        // A trailing number without a unit ("1h30") is ambiguous.
        guard digits.isEmpty else { return nil }
        seconds = total
    }

    /// The shortest unit form, such as `1h30m`, or `0s`.
    public var description: String {
        guard seconds > 0 else { return "\(seconds)s" }
        var rest = seconds
        var text = ""
        for unit in Self.units where rest >= unit.seconds {
            text += "\(rest / unit.seconds)\(unit.suffix)"
            rest %= unit.seconds
        }
        return text
    }
}

extension Character {
    /// `0`–`9` only; `isNumber` would also accept other scripts' digits and fractions.
    var isASCIIDigit: Bool {
        guard let ascii = asciiValue else { return false }
        return ascii >= 0x30 && ascii <= 0x39
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines (no Foundation needed).
    func trimmingWhitespace() -> String {
        // "\r\n" is one Character, equal to neither "\r" nor "\n": without it a CRLF line break was kept
        // (the fuzzer's " 5m\r\n" timeout was "not a duration" although the contract allows it).
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}

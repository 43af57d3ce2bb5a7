/// The one rule for text that reaches PostgreSQL, whatever door it came in by (JSON bodies, study specs,
/// path and query parameters, form bodies, preprint ids, cursors): it must not hold NUL (U+0000), which
/// `text` cannot store and `jsonb` refuses as `\u0000`. Each door turns a refusal into its own answer
/// (400 naming the field for requests, 422 with the path for specs); the rule itself lives only here.
public enum StorableText {
    /// True when PostgreSQL can store `text` as it is.
    public static func isStorable(_ text: some StringProtocol) -> Bool {
        // Scalars, not characters: a NUL followed by a combining mark is one grapheme that is not "\u{0}".
        !text.unicodeScalars.contains("\u{0}")
    }

    /// The refusal in words, after the field's name.
    public static let reason = "contains a NUL character (U+0000), which cannot be stored"

    /// Text a job produced (output, error, progress) is kept rather than refused: NUL becomes U+FFFD.
    public static func replacingNUL(_ text: String) -> String {
        isStorable(text) ? text : String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\u{0}" ? "\u{FFFD}" : $0 }))
    }
}

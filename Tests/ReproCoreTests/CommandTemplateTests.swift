import Testing

@testable import ReproCore

/// The placeholder scanner works on UTF-8 bytes since issue 16; it must find exactly what the
/// character-wise scanner found, non-ASCII text included.
@Suite("Command template")
struct CommandTemplateTests {
    /// The character-wise identifier rule the byte-wise one replaced.
    static func characterIdentifier(_ name: Substring) -> Bool {
        guard let first = name.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }

    static let names: [String] = [
        "", "seed", "_", "_x1", "1x", "x-y", "dataset", "Z9", "é", "e\u{301}", "ａ", "x y", "@", "[", "`", "{", "x٣",
        "x\u{0}", "ΣX", "a_b_C_9",
    ]

    @Test("identifiers: the byte-wise rule agrees with the character-wise one")
    func identifiers() {
        for name in Self.names {
            #expect(
                CommandTemplate.isIdentifier(Substring(name)) == Self.characterIdentifier(Substring(name)), "\(name)")
        }
    }

    @Test("substitution finds placeholders after non-ASCII text and leaves other braces alone")
    func substitution() {
        let values = ["seed": "7", "dataset": "wine", "lr": "0.1"]
        let cases: [(String, String)] = [
            ("--seed={seed}", "--seed=7"),
            ("données/{dataset}/é{seed}", "données/wine/é7"),
            ("{\"lr\": 0.1}", "{\"lr\": 0.1}"),
            ("{{seed}}", "{7}"),
            ("{unknown}-{seed}", "{unknown}-7"),
            ("{é}{seed}", "{é}7"),
            ("{seed", "{seed"),
            ("}{lr}{", "}0.1{"),
            ("e\u{301}{dataset}", "e\u{301}wine"),
        ]
        for (argument, expected) in cases {
            #expect(CommandTemplate.substitute(argument, values: values) == expected, "\(argument)")
        }
        #expect(CommandTemplate.placeholders(in: "{a}{1b}{_c}{é}") == ["a", "_c"])
    }
}

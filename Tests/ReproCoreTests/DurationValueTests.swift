import ReproCore
import Testing

@Suite("DurationValue")
struct DurationValueTests {
    @Test(arguments: [
        ("90s", 90), ("10m", 600), ("1h30m", 5400), ("1h30m15s", 5415), ("2d", 172_800), ("45", 45),
        (" 5m ", 300), ("0s", 0),
    ])
    func parsesUnitsFromLargestToSmallest(text: String, seconds: Int) {
        #expect(DurationValue(parsing: text)?.seconds == seconds)
    }

    @Test(arguments: ["", "10 minutes", "1.5h", "30m1h", "1h1h", "1h30", "m", "-5m", "99999999999999999999s", "10M"])
    func refusesAnythingElse(text: String) {
        #expect(DurationValue(parsing: text) == nil)
    }

    @Test func describesInTheShortestForm() {
        #expect(DurationValue(seconds: 5400).description == "1h30m")
        #expect(DurationValue(seconds: 90_061).description == "1d1h1m1s")
        #expect(DurationValue(seconds: 0).description == "0s")
    }
}

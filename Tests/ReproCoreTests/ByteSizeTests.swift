import ReproCore
import Testing

@Suite("ByteSize")
struct ByteSizeTests {
    @Test(arguments: [
        ("512MiB", Int64(512) << 20), ("2GiB", 2 << 30), ("1G", 1_000_000_000), ("1gb", 1_000_000_000),
        ("1.5GiB", 3 << 29), ("2048", 2048), ("64 Mi", 64 << 20), ("1TiB", 1 << 40), ("100B", 100),
    ])
    func parsesBinaryAndSIUnits(text: String, bytes: Int64) {
        #expect(ByteSize(parsing: text)?.bytes == bytes)
    }

    @Test(arguments: ["", "lots", "2 gigs", "GiB", "1.GiB", ".5GiB", "-1GiB", "1e9", "99999999999TiB"])
    func refusesAnythingElse(text: String) {
        #expect(ByteSize(parsing: text) == nil)
    }

    @Test func describesWithTheLargestExactBinaryUnit() {
        #expect(ByteSize(bytes: 2 << 30).description == "2GiB")
        #expect(ByteSize(bytes: 1536 << 20).description == "1536MiB")
        #expect(ByteSize(bytes: 1_000_000_000).description == "1000000000B")
        #expect(ByteSize(bytes: 0).description == "0B")
    }
}

import Foundation
import Testing

@testable import ReproCoordinator

/// The `Date` header ``ConnectionResponder`` writes in place of Hummingbird's (decision 0019).
@Suite("HTTP date header")
struct HTTPDateTests {
    @Test("RFC 9110's example, and a date with single-digit fields")
    func imfFixdate() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(1_709_254_861) == "Fri, 01 Mar 2024 01:01:01 GMT")
    }

    @Test("now is the current second, formatted")
    func now() {
        let before = time(nil)
        let text = HTTPDate.now
        let after = time(nil)
        #expect([before, after].map(HTTPDate.format).contains(text))
    }
}

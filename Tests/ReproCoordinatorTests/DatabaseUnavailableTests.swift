import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ReproCore
import Testing

@testable import ReproCoordinator

/// A database that cannot answer is the one 5xx the coordinator gives: 503 with `Retry-After`.
@Suite("Database unavailable")
struct DatabaseUnavailableTests {
    static let failures: [String: any Error] = [
        "deadline": DatabaseUnavailable(.deadlineExceeded, underlying: DeadlineExceeded(limit: .seconds(1))),
        "channel": ChannelError.ioOnClosedChannel,
        "cancelled": CancellationError(),
    ]

    @Test("each way of not answering is a 503 problem with Retry-After")
    func answered503() async throws {
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        router.get("/fail/{kind}") { _, context -> Response in
            let kind = try context.parameters.require("kind")
            throw Self.failures[kind]!
        }
        let app = Application(router: router)
        try await app.test(.router) { client in
            for kind in Self.failures.keys.sorted() {
                let response = try await client.execute(uri: "/fail/\(kind)", method: .get)
                #expect(response.status == .serviceUnavailable, "\(kind)")
                #expect(response.headers[.retryAfter] == "\(DatabaseUnavailable.retryAfterSeconds)", "\(kind)")
                #expect(response.headers[.contentType] == "application/problem+json", "\(kind)")
            }
        }
    }

    @Test("other errors are not mistaken for an unavailable database")
    func otherErrors() {
        struct Bug: Error {}
        #expect(!(DatabaseUnavailable.classify(Bug()) is DatabaseUnavailable))
        #expect(!(DatabaseUnavailable.classify(Problem.conflict("x")) is DatabaseUnavailable))
    }
}

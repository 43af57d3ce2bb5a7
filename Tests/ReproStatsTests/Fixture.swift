import Foundation

/// `Fixtures/reference.json`, written by `Fixtures/generate.py` from numpy and scipy (versions recorded in it).
struct Fixture: Decodable, Sendable {
    struct SummaryCase: Decodable, Sendable {
        let name: String
        let values: [Double]
        let expected: JSONValue
    }

    struct ClaimCase: Decodable, Sendable {
        struct ClaimSpec: Decodable, Sendable {
            let metric: String
            let dataset: String
            let value: Double
            let direction: String
            let tolerance: Double?
        }

        let name: String
        let values: [Double]
        let claim: ClaimSpec
        let nMin: Int
        let expected: JSONValue

        enum CodingKeys: String, CodingKey {
            case name, values, claim, expected
            case nMin = "n_min"
        }
    }

    struct GroupsCase: Decodable, Sendable {
        let name: String
        let groups: [[Double]]
        let expected: JSONValue
    }

    struct TwoWayCase: Decodable, Sendable {
        let name: String
        let values: [[[Double]]]
        let expected: JSONValue
    }

    struct WilsonCase: Decodable, Sendable {
        let successes: Int
        let trials: Int
        let z: Double
        let lower: Double?
        let upper: Double?
        let reference: String
    }

    struct Special: Decodable, Sendable {
        struct LogGamma: Decodable, Sendable {
            let x: Double
            let value: Double
        }
        struct Beta: Decodable, Sendable {
            let x: Double
            let a: Double
            let b: Double
            let value: Double
        }
        struct TProbability: Decodable, Sendable {
            let df: Double
            let t: Double
            let cdf: Double
            let sf: Double
        }
        struct TQuantile: Decodable, Sendable {
            let df: Double
            let p: Double
            let value: Double
        }
        struct FTail: Decodable, Sendable {
            let d1: Double
            let d2: Double
            let f: Double
            let value: Double
        }
        struct NormalQuantile: Decodable, Sendable {
            let p: Double
            let value: Double
        }

        let logGamma: [LogGamma]
        let incompleteBeta: [Beta]
        let studentT: [TProbability]
        let studentTQuantile: [TQuantile]
        let fSf: [FTail]
        let normalQuantile: [NormalQuantile]

        enum CodingKeys: String, CodingKey {
            case logGamma = "log_gamma"
            case incompleteBeta = "incomplete_beta"
            case studentT = "student_t"
            case studentTQuantile = "student_t_quantile"
            case fSf = "f_sf"
            case normalQuantile = "normal_quantile"
        }
    }

    let numpy: String
    let scipy: String
    let special: Special
    let summaries: [SummaryCase]
    let claims: [ClaimCase]
    let oneWay: [GroupsCase]
    let anova: [GroupsCase]
    let twoWay: [TwoWayCase]
    let wilson: [WilsonCase]

    enum CodingKeys: String, CodingKey {
        case numpy, scipy, special, summaries, claims, anova, wilson
        case oneWay = "one_way"
        case twoWay = "two_way"
    }

    /// Loaded once from the test bundle.
    static let reference: Fixture = {
        guard let url = Bundle.module.url(forResource: "reference", withExtension: "json", subdirectory: "Fixtures")
        else { fatalError("Fixtures/reference.json missing from the test bundle; run Fixtures/generate.py") }
        do {
            return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot decode Fixtures/reference.json: \(error)")
        }
    }()
}

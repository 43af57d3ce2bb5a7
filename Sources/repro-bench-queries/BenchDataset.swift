import Foundation
import Logging
import PostgresNIO
import ReproStats

/// Loads the benchmark's data set with set-based SQL (generate_series), then builds the feedback
/// aggregates the coordinator otherwise maintains item by item on write.
struct BenchDataset {
    let preprints: Int
    let feedback: Int
    let hotItems: Int
    let client: PostgresClient
    let logger: Logger

    /// The preprint that gets `hotItems` feedback items.
    static let hotPreprint = "arXiv:2401.00000"

    /// 50 feedback texts; item i gets text i % 50, so term counts can be computed per text once.
    static let templates: [String] = {
        let words = [
            "training", "diverged", "seed", "variance", "learning", "rate", "schedule", "warmup", "accuracy",
            "dropped", "baseline", "matches", "paper", "appendix", "hyperparameters", "missing", "dataset",
            "split", "different", "gpu", "nondeterminism", "cudnn", "results", "close", "claim", "holds",
            "batch", "size", "memory", "epochs", "checkpoint", "evaluation", "script", "broken", "fixed",
            "requirements", "pinned", "versions", "tokenizer", "augmentation", "noise", "stable", "unstable",
            "reproduced", "partially", "wine", "digits", "mnist", "cifar", "loss",
        ]
        return (0..<50).map { index in
            var sentence: [String] = []
            for position in 0..<14 {
                sentence.append(words[(index * 7 + position * 11 + position * position) % words.count])
                if position % 5 == 4 { sentence[sentence.count - 1] += "." }
            }
            return sentence.joined(separator: " ").capitalized
        }
    }()

    func load() async throws {
        let start = ContinuousClock.now
        let accounts = max(hotItems, (feedback - hotItems) / max(preprints - 1, 1) + 1)
        try await exec("INSERT INTO accounts (name, roles) SELECT 'bench-' || g, ARRAY['community'] FROM generate_series(1, \(accounts)) g")
        try await exec("CREATE TABLE bench_accounts AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM accounts WHERE name LIKE 'bench-%'")
        try await exec("CREATE UNIQUE INDEX ON bench_accounts (n)")
        try await exec(
            """
            INSERT INTO preprints (id, title, authors, institutions, field, funding, published_on)
            SELECT 'arXiv:2401.' || lpad(g::text, 5, '0'), 'Preprint ' || g || ', a study of things', ARRAY['Author ' || g],
                   ARRAY['Institution ' || (g % 500), 'Institution ' || ((g * 7) % 500)],
                   (ARRAY['cs.LG', 'cs.CV', 'cs.CL', 'cs.AI', 'stat.ML'])[g % 5 + 1],
                   jsonb_build_array(jsonb_build_object('funder', 'Funder ' || (g % 50), 'grant', 'G-' || (g % 2000))),
                   date '2020-01-01' + (g % 1500)
            FROM generate_series(0, \(preprints - 1)) g
            """)
        try await exec(
            """
            UPDATE preprint_scores SET
                score = CASE WHEN hashtext(preprint_id) % 10 = 0 THEN NULL ELSE abs(hashtext(preprint_id)) % 10000 / 100.0 END,
                decided = abs(hashtext(preprint_id)) % 30, reproduced = abs(hashtext(preprint_id)) % 30 / 2,
                runs = abs(hashtext(preprint_id || 'r')) % 500, has_completed_study = true, computed_at = now(),
                updated_at = now() - (abs(hashtext(preprint_id || 'd')) % 100000) * interval '1 minute'
            """)
        print("  preprints loaded in \(ContinuousClock.now - start)")

        try await exec("CREATE TABLE bench_templates (idx int PRIMARY KEY, body text NOT NULL, single_terms int NOT NULL)")
        try await exec("CREATE TABLE bench_template_terms (idx int, term text, occurrences int)")
        for (index, text) in Self.templates.enumerated() {
            let terms = KeyPhrases.terms(in: text)
            var counts: [String: Int] = [:]
            for term in terms { counts[term, default: 0] += 1 }
            let single = terms.count { !$0.contains(" ") }
            try await client.query(
                "INSERT INTO bench_templates VALUES (\(index), \(text), \(single))", logger: logger)
            try await client.query(
                """
                INSERT INTO bench_template_terms SELECT \(index), t, c
                FROM unnest(\(Array(counts.keys))::text[], \(Array(counts.values))::int[]) AS u(t, c)
                """, logger: logger)
        }
        // Item i: the hot preprint for i < hotItems, else preprint 1 + (i - hot) % (preprints - 1); the
        // account index keeps (preprint, account) unique.
        let others = preprints - 1
        try await exec(
            """
            INSERT INTO feedback (preprint_id, account_id, verdict, rating, tags, body, helpful, unhelpful, created_at)
            SELECT CASE WHEN g < \(hotItems) THEN '\(Self.hotPreprint)'
                        ELSE 'arXiv:2401.' || lpad((1 + (g - \(hotItems)) % \(others))::text, 5, '0') END,
                   a.id,
                   (ARRAY['reproduced', 'partially', 'not_reproduced', 'comment', 'reproduced'])[g % 5 + 1],
                   NULLIF(g % 6, 0),
                   CASE g % 4 WHEN 0 THEN ARRAY['seed-sensitive'] WHEN 1 THEN ARRAY['code-available', 'environment']
                              WHEN 2 THEN ARRAY[]::text[]
                              ELSE ARRAY['numbers-match', 'well-documented', 'gpu-' || (g % 13)] END,
                   t.body, g % 7, g % 3, now() - g * interval '1 second'
            FROM generate_series(0, \(feedback - 1)) g
            JOIN bench_templates t ON t.idx = g % 50
            JOIN bench_accounts a ON a.n = CASE WHEN g < \(hotItems) THEN g ELSE (g - \(hotItems)) / \(others) END
            """)
        print("  feedback loaded in \(ContinuousClock.now - start)")
        try await exec(
            """
            INSERT INTO preprint_feedback_stats
            SELECT f.preprint_id, count(*), count(*) FILTER (WHERE verdict = 'reproduced'),
                   count(*) FILTER (WHERE verdict = 'partially'), count(*) FILTER (WHERE verdict = 'not_reproduced'),
                   count(*) FILTER (WHERE verdict = 'comment'), coalesce(sum(rating), 0), count(rating), sum(t.single_terms)
            FROM feedback f JOIN bench_templates t ON t.body = f.body
            GROUP BY f.preprint_id
            """)
        try await exec(
            """
            UPDATE feedback_totals SET documents = (SELECT count(*) FROM feedback),
                rating_sum = (SELECT coalesce(sum(rating), 0) FROM feedback), rating_count = (SELECT count(rating) FROM feedback)
            """)
        try await exec(
            """
            CREATE TABLE bench_preprint_templates AS
            SELECT f.preprint_id, t.idx, count(*) AS items FROM feedback f JOIN bench_templates t ON t.body = f.body
            GROUP BY f.preprint_id, t.idx
            """)
        try await exec(
            """
            INSERT INTO feedback_terms
            SELECT tt.term, sum(pt.items) FROM bench_preprint_templates pt JOIN bench_template_terms tt ON tt.idx = pt.idx
            GROUP BY tt.term
            """)
        try await exec(
            """
            INSERT INTO feedback_preprint_tags
            SELECT preprint_id, tag, count(*) FROM feedback, unnest(tags) AS tag GROUP BY preprint_id, tag
            """)
        // The Wilson lower bound the vote route stores, here in SQL for the bulk load (z = 1.959964).
        try await exec(
            """
            UPDATE feedback SET helpful_lb = (p + z*z/(2*n) - z*sqrt(p*(1-p)/n + z*z/(4*n*n))) / (1 + z*z/n)
            FROM (SELECT id AS fid, helpful::float8 / (helpful + unhelpful) AS p, (helpful + unhelpful)::float8 AS n,
                         1.959963984540054::float8 AS z
                  FROM feedback WHERE helpful + unhelpful > 0) w
            WHERE feedback.id = w.fid
            """)
        try await exec(
            """
            INSERT INTO feedback_preprint_terms
            SELECT pt.preprint_id, tt.term, sum(pt.items * tt.occurrences)
            FROM bench_preprint_templates pt JOIN bench_template_terms tt ON tt.idx = pt.idx
            GROUP BY pt.preprint_id, tt.term
            """)
        try await client.query("VACUUM ANALYZE", logger: logger)
        print("  aggregates built in \(ContinuousClock.now - start)")
    }

    /// Runs one statement with a large work_mem, so the big aggregations do not spill to disk.
    private func exec(_ sql: String) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SET LOCAL work_mem = '1GB'", logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }
}

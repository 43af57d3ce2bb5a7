import Foundation

/// How a study came to run (or not), as its owner and moderators see it.
public struct StudyReview: Codable, Sendable, Equatable {
    /// How the study was approved; nil while pending or when rejected.
    public var approval: ApprovalKind?
    /// The moderator who approved it (``ApprovalKind/moderator``).
    public var approvedBy: UUID?
    /// The earlier study whose moderator approval of the same binding applied (``ApprovalKind/earlierApproval``).
    public var approvedVia: UUID?
    public var approvedAt: Date?
    /// Why a moderator rejected it: shown to the owner.
    public var rejectionReason: String?
    public var rejectedAt: Date?
    /// SHA-256 of the approval binding (code, requirements, command template, environment, network).
    public var bindingSHA256: String?
    /// The key that signed the study's manifest.
    public var signingKeyID: String?

    enum CodingKeys: String, CodingKey {
        case approval
        case approvedBy = "approved_by"
        case approvedVia = "approved_via"
        case approvedAt = "approved_at"
        case rejectionReason = "rejection_reason"
        case rejectedAt = "rejected_at"
        case bindingSHA256 = "binding_sha256"
        case signingKeyID = "signing_key_id"
    }

    /// Creates a record.
    public init(
        approval: ApprovalKind? = nil, approvedBy: UUID? = nil, approvedVia: UUID? = nil, approvedAt: Date? = nil,
        rejectionReason: String? = nil, rejectedAt: Date? = nil, bindingSHA256: String? = nil,
        signingKeyID: String? = nil
    ) {
        self.approval = approval
        self.approvedBy = approvedBy
        self.approvedVia = approvedVia
        self.approvedAt = approvedAt
        self.rejectionReason = rejectionReason
        self.rejectedAt = rejectedAt
        self.bindingSHA256 = bindingSHA256
        self.signingKeyID = signingKeyID
    }
}

/// Why a study was approved.
public enum ApprovalKind: String, Codable, Sendable {
    /// Its submitter is marked trusted by an admin.
    case trustedSubmitter = "trusted_submitter"
    /// A moderator reviewed and approved it.
    case moderator
    /// A moderator approved an earlier study with the same binding.
    case earlierApproval = "earlier_approval"
}

/// Body of `POST /v1/reviews/{id}/reject`.
public struct RejectRequest: Codable, Sendable {
    /// Shown to the study's owner and kept in the audit log.
    public var reason: String

    /// Creates a request.
    public init(reason: String) { self.reason = reason }
}

/// Body of `POST /v1/reviews/{id}/approve`: an optional note for the audit log.
public struct ApproveRequest: Codable, Sendable {
    public var reason: String?

    /// Creates a request.
    public init(reason: String? = nil) { self.reason = reason }
}

/// Body of `POST /v1/accounts/{id}/trust`.
public struct TrustRequest: Codable, Sendable {
    /// True marks the account trusted (its studies are approved at submission); false takes that back.
    public var trusted: Bool
    public var reason: String?

    /// Creates a request.
    public init(trusted: Bool, reason: String? = nil) {
        self.trusted = trusted
        self.reason = reason
    }
}

/// Answer to `POST /v1/accounts/{id}/trust`.
public struct AccountTrust: Codable, Sendable {
    public var accountID: UUID
    public var trusted: Bool

    enum CodingKeys: String, CodingKey {
        case accountID = "account_id"
        case trusted
    }

    /// Creates the answer.
    public init(accountID: UUID, trusted: Bool) {
        self.accountID = accountID
        self.trusted = trusted
    }
}

/// One study waiting for review, as `GET /v1/reviews` lists it.
public struct ReviewListItem: Codable, Sendable {
    public var studyID: UUID
    public var preprintID: String
    public var title: String
    public var submitter: UUID
    public var submitterName: String
    public var submittedAt: Date
    /// Tasks the study has now.
    public var taskCount: Int
    /// For an adaptive study, the tasks it may grow to (what approving it may cost); nil for fixed seeds.
    public var maxTaskCount: Int?

    enum CodingKeys: String, CodingKey {
        case studyID = "study_id"
        case preprintID = "preprint_id"
        case title, submitter
        case submitterName = "submitter_name"
        case submittedAt = "submitted_at"
        case taskCount = "task_count"
        case maxTaskCount = "max_task_count"
    }

    /// Creates an item.
    public init(
        studyID: UUID, preprintID: String, title: String, submitter: UUID, submitterName: String, submittedAt: Date,
        taskCount: Int, maxTaskCount: Int? = nil
    ) {
        self.studyID = studyID
        self.preprintID = preprintID
        self.title = title
        self.submitter = submitter
        self.submitterName = submitterName
        self.submittedAt = submittedAt
        self.taskCount = taskCount
        self.maxTaskCount = maxTaskCount
    }
}

/// Answer to `GET /v1/reviews`.
public struct ReviewList: Codable, Sendable {
    public var studies: [ReviewListItem]

    /// Creates the list.
    public init(studies: [ReviewListItem]) { self.studies = studies }
}

/// What a moderator reads before deciding: `GET /v1/reviews/{id}`.
public struct ReviewDocument: Codable, Sendable {
    public var studyID: UUID
    public var state: StudyState
    public var preprintID: String
    public var title: String
    /// The manifest that approval signs.
    public var manifest: JobManifest
    public var bindingSHA256: String
    /// The bundle's files (nil for git code).
    public var files: [BundleFile]?
    /// Why the bundle could not be listed (not a valid archive): itself a reason to reject.
    public var bundleProblem: String?
    /// The git repository and commit (nil for bundles).
    public var git: CodeReference?
    /// Full text of small text files (train scripts, requirements), up to ``ReviewDocument/textLimit`` each.
    public var texts: [BundleText]
    /// The requirements file's text, when the code holds it.
    public var requirementsText: String?
    /// The command of the study's first task, placeholders filled in.
    public var exampleCommand: [String]
    /// Tasks the study has now.
    public var taskCount: Int
    /// For an adaptive study, the tasks it may grow to; nil for fixed seeds.
    public var maxTaskCount: Int?
    public var submitter: Submitter
    public var review: StudyReview

    /// Bytes of one file shown in full; longer text files are listed, not shown.
    public static let textLimit = 64 * 1024

    /// Who submitted the study and what they did before.
    public struct Submitter: Codable, Sendable {
        public var accountID: UUID
        public var name: String
        public var trusted: Bool
        public var createdAt: Date
        /// Their studies by state (`running`, `rejected`, …), this one included.
        public var studies: [String: Int]

        enum CodingKeys: String, CodingKey {
            case accountID = "account_id"
            case name, trusted
            case createdAt = "created_at"
            case studies
        }

        /// Creates the record.
        public init(accountID: UUID, name: String, trusted: Bool, createdAt: Date, studies: [String: Int]) {
            self.accountID = accountID
            self.name = name
            self.trusted = trusted
            self.createdAt = createdAt
            self.studies = studies
        }
    }

    enum CodingKeys: String, CodingKey {
        case studyID = "study_id"
        case state
        case preprintID = "preprint_id"
        case title, manifest
        case bindingSHA256 = "binding_sha256"
        case files
        case bundleProblem = "bundle_problem"
        case git, texts
        case requirementsText = "requirements_text"
        case exampleCommand = "example_command"
        case taskCount = "task_count"
        case maxTaskCount = "max_task_count"
        case submitter, review
    }

    /// Creates the document.
    public init(
        studyID: UUID, state: StudyState, preprintID: String, title: String, manifest: JobManifest,
        bindingSHA256: String, files: [BundleFile]?, bundleProblem: String?, git: CodeReference?, texts: [BundleText],
        requirementsText: String?, exampleCommand: [String], taskCount: Int, maxTaskCount: Int? = nil,
        submitter: Submitter, review: StudyReview
    ) {
        self.studyID = studyID
        self.state = state
        self.preprintID = preprintID
        self.title = title
        self.manifest = manifest
        self.bindingSHA256 = bindingSHA256
        self.files = files
        self.bundleProblem = bundleProblem
        self.git = git
        self.texts = texts
        self.requirementsText = requirementsText
        self.exampleCommand = exampleCommand
        self.taskCount = taskCount
        self.maxTaskCount = maxTaskCount
        self.submitter = submitter
        self.review = review
    }
}

/// One file of a bundle.
public struct BundleFile: Codable, Sendable, Equatable {
    public var path: String
    public var size: Int64
    /// nil for symbolic links (``target`` says where they point).
    public var sha256: String?
    public var target: String?

    /// Creates an entry.
    public init(path: String, size: Int64, sha256: String?, target: String? = nil) {
        self.path = path
        self.size = size
        self.sha256 = sha256
        self.target = target
    }
}

/// The text of one small file of a bundle.
public struct BundleText: Codable, Sendable, Equatable {
    public var path: String
    public var text: String

    /// Creates an entry.
    public init(path: String, text: String) {
        self.path = path
        self.text = text
    }
}

/// One line of the moderation audit log.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var id: Int64
    public var at: Date
    /// Who acted; nil for the coordinator itself (approval at submission).
    public var actor: UUID?
    public var action: String
    public var studyID: UUID?
    public var accountID: UUID?
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case id, at, actor, action
        case studyID = "study_id"
        case accountID = "account_id"
        case reason
    }

    /// Creates an entry.
    public init(id: Int64, at: Date, actor: UUID?, action: String, studyID: UUID?, accountID: UUID?, reason: String?) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.studyID = studyID
        self.accountID = accountID
        self.reason = reason
    }
}

/// Answer to `GET /v1/moderation/log`.
public struct AuditLog: Codable, Sendable {
    public var entries: [AuditEntry]

    /// Creates the answer.
    public init(entries: [AuditEntry]) { self.entries = entries }
}

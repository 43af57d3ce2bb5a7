/// What a worker prepares before running the command.
public enum EnvironmentSpec: Sendable, Hashable {
    /// A virtualenv built from a requirements file, a path inside the code.
    case python(requirements: String)
    /// A container image to run the command in.
    case container(image: String)
}

extension EnvironmentSpec: Codable {
    private enum CodingKeys: String, CodingKey {
        case python, container
    }

    private enum PythonKeys: String, CodingKey {
        case requirements
    }

    private enum ContainerKeys: String, CodingKey {
        case image
    }

    /// Decodes `{"python": {"requirements": ...}}` or `{"container": {"image": ...}}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if container.contains(.python) {
            let python = try container.nestedContainer(keyedBy: PythonKeys.self, forKey: .python)
            self = .python(requirements: try python.decode(String.self, forKey: .requirements))
        } else {
            let image = try container.nestedContainer(keyedBy: ContainerKeys.self, forKey: .container)
            self = .container(image: try image.decode(String.self, forKey: .image))
        }
    }

    /// Encodes in the spec file's shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .python(let requirements):
            var python = container.nestedContainer(keyedBy: PythonKeys.self, forKey: .python)
            try python.encode(requirements, forKey: .requirements)
        case .container(let image):
            var nested = container.nestedContainer(keyedBy: ContainerKeys.self, forKey: .container)
            try nested.encode(image, forKey: .image)
        }
    }
}

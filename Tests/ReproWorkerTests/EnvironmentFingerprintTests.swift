import Foundation
import Testing

@testable import ReproWorker

#if canImport(Glibc)
    import Glibc
#endif

@Suite("EnvironmentFingerprint")
struct EnvironmentFingerprintTests {
    @Test("PRETTY_NAME is read from os-release, quoted or not")
    func prettyName() {
        let osRelease = """
            NAME="Debian GNU/Linux"
            PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
            VERSION_ID="12"
            """
        #expect(EnvironmentFingerprint.parsePrettyName(osRelease) == "Debian GNU/Linux 12 (bookworm)")
        #expect(EnvironmentFingerprint.parsePrettyName("PRETTY_NAME=Alpine\n") == "Alpine")
        #expect(EnvironmentFingerprint.parsePrettyName("NAME=x\n") == nil)
    }

    @Test("the CPU model comes from x86 'model name' or ARM's fields")
    func cpuModel() {
        let x86 = """
            processor\t: 0
            vendor_id\t: GenuineIntel
            model name\t: Intel(R) Xeon(R)   Platinum 8375C CPU @ 2.90GHz
            processor\t: 1
            model name\t: Intel(R) Xeon(R)   Platinum 8375C CPU @ 2.90GHz
            """
        #expect(EnvironmentFingerprint.parseCPUModel(x86) == "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz")
        let arm = """
            processor\t: 0
            BogoMIPS\t: 243.75
            CPU implementer\t: 0x41
            CPU part\t: 0xd0c
            """
        #expect(EnvironmentFingerprint.parseCPUModel(arm) == "CPU implementer 0x41 part 0xd0c")
        #expect(EnvironmentFingerprint.parseCPUModel("") == nil)
    }

    @Test("MemTotal is converted to bytes")
    func memTotal() {
        #expect(
            EnvironmentFingerprint.parseMemTotal("MemTotal:       24576000 kB\nMemFree: 1 kB\n") == 24_576_000 * 1024
        )
        #expect(EnvironmentFingerprint.parseMemTotal("MemFree: 1 kB\n") == nil)
    }

    @Test("nvidia-smi's CSV gives one entry per GPU; its error text gives none")
    func nvidiaSMI() {
        let (gpus, driver) = EnvironmentFingerprint.parseNvidiaSMI(
            "NVIDIA A100-SXM4-40GB, 535.104.05\nNVIDIA A100-SXM4-40GB, 535.104.05\n"
        )
        #expect(gpus == ["NVIDIA A100-SXM4-40GB", "NVIDIA A100-SXM4-40GB"])
        #expect(driver == "535.104.05")
        let failed = EnvironmentFingerprint.parseNvidiaSMI(
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n"
        )
        #expect(failed.0.isEmpty && failed.1 == nil)
    }

    @Test("pip's JSON list is read even with warnings around it")
    func pipList() {
        let output = """
            WARNING: Ignoring invalid distribution ~umpy
            [{"name": "numpy", "version": "2.4.6"}, {"name": "scikit-learn", "version": "1.9.1"}]
            """
        #expect(EnvironmentFingerprint.parsePipList(output) == ["numpy": "2.4.6", "scikit-learn": "1.9.1"])
        #expect(EnvironmentFingerprint.parsePipList("error") == nil)
        #expect(EnvironmentFingerprint.parsePythonVersion("Python 3.11.7\n") == "3.11.7")
    }

    @Test("hardwareClass is the CPU model and each distinct GPU model")
    func hardwareClass() {
        var fingerprint = EnvironmentFingerprint(
            os: "Debian",
            kernel: "6.1",
            architecture: "x86_64",
            cpuModel: "AMD EPYC 7B13",
            cpuCores: 8,
            memoryBytes: 1
        )
        #expect(fingerprint.hardwareClass == "AMD EPYC 7B13")
        fingerprint.gpus = ["NVIDIA L4", "NVIDIA A100", "NVIDIA L4"]
        #expect(fingerprint.hardwareClass == "AMD EPYC 7B13 + NVIDIA A100 + NVIDIA L4")
    }

    @Test("JSON carries hardwareClass and decodes back")
    func codable() throws {
        let fingerprint = EnvironmentFingerprint(
            os: "Debian",
            kernel: "6.1",
            architecture: "x86_64",
            cpuModel: "AMD EPYC 7B13",
            cpuCores: 8,
            memoryBytes: 1 << 34,
            gpus: ["NVIDIA L4"],
            gpuDriverVersion: "550.1",
            pythonVersion: "3.11.7",
            packages: ["numpy": "2.4.6"]
        )
        let data = try JSONEncoder().encode(fingerprint)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["hardwareClass"] as? String == "AMD EPYC 7B13 + NVIDIA L4")
        #expect(try JSONDecoder().decode(EnvironmentFingerprint.self, from: data) == fingerprint)
        let minimal = #"{"os":"x","kernel":"k","architecture":"a","cpuModel":"c","cpuCores":1,"memoryBytes":2}"#
        let decoded = try JSONDecoder().decode(EnvironmentFingerprint.self, from: Data(minimal.utf8))
        #expect(decoded.gpus.isEmpty && decoded.packages.isEmpty && decoded.pythonVersion == nil)
    }

    @Test("this machine's fingerprint, with the Python on PATH")
    func collectHere() async throws {
        let fingerprint = await EnvironmentFingerprint.collect(python: "python3", logger: .test)
        #expect(!fingerprint.os.isEmpty)
        #expect(!fingerprint.kernel.isEmpty)
        #expect(!fingerprint.architecture.isEmpty)
        #expect(!fingerprint.cpuModel.isEmpty)
        #expect(fingerprint.cpuCores >= 1)
        #expect(fingerprint.memoryBytes > 100 * 1024 * 1024)
        #expect(fingerprint.pythonVersion?.hasPrefix("3.") == true)
        #expect(fingerprint.packages["pip"] != nil)
    }

    @Test("missing files, tools and Python give fallbacks, not failures; nvidia-smi is used when present")
    func collectTolerant() async throws {
        let root = try TemporaryDirectory()
        let bin = root.url.appending(path: "bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let fakeSMI = bin.appending(path: "nvidia-smi")
        try "#!/bin/sh\necho 'NVIDIA L4, 550.54.15'\necho 'NVIDIA L4, 550.54.15'\n".write(
            to: fakeSMI,
            atomically: true,
            encoding: .utf8
        )
        chmod(fakeSMI.path, 0o755)

        let fingerprint = await EnvironmentFingerprint.collect(
            python: "/nonexistent/python",
            fileSystemRoot: root.url,
            environment: ["PATH": "\(bin.path):/usr/bin:/bin"],
            logger: .test
        )
        #expect(!fingerprint.os.isEmpty)
        #expect(fingerprint.cpuModel.hasPrefix("unknown "))
        #expect(fingerprint.memoryBytes > 0)
        #expect(fingerprint.gpus == ["NVIDIA L4", "NVIDIA L4"])
        #expect(fingerprint.gpuDriverVersion == "550.54.15")
        #expect(fingerprint.pythonVersion == nil)
        #expect(fingerprint.packages.isEmpty)

        let withoutGPU = await EnvironmentFingerprint.collect(
            python: nil,
            fileSystemRoot: root.url,
            environment: ["PATH": "/usr/bin:/bin"],
            logger: .test
        )
        #expect(withoutGPU.gpus.isEmpty && withoutGPU.gpuDriverVersion == nil)
    }
}

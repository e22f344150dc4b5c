import ServiceLifecycle
import SomaCore

extension Provisioned {
    /// The backend with its services running for the rest of the test process: a test that checks a
    /// backend has no service lifetime of its own (the shutdown tests use `BackendLifetime`).
    public func startedForTests() async throws -> Backend {
        for service in services {
            Task { try? await service.run() }
        }
        try await ready()
        return backend
    }
}

import ConformanceKit
import Foundation
import PostgresNIO
import SomaCore
import SomaPostgres
import Testing

/// `sslmode` against a PostgreSQL that serves TLS (Debian's 15, a self-signed certificate).
@Suite(
    "PostgreSQL sslmode against a TLS server",
    .enabled(
        if: ProcessInfo.processInfo.environment["SOMA_TEST_TLS_POSTGRES_URL"] != nil,
        "needs SOMA_TEST_TLS_POSTGRES_URL: `scripts/servers.sh start` starts Debian's PostgreSQL 15 with TLS"))
struct PostgresTLSTests {
    static let url = ProcessInfo.processInfo.environment["SOMA_TEST_TLS_POSTGRES_URL"] ?? ""
    static let authority = ProcessInfo.processInfo.environment["SOMA_TEST_TLS_POSTGRES_CA"] ?? ""

    /// Whether this storage's connection to the server is encrypted, as the server sees it.
    static func encrypted(_ query: String) async throws -> Bool {
        let storage = try await PostgresBackends.storage(BackendConfiguration(["POSTGRES_URL": url + query])).startedForTests()
        _ = try await storage.upsert([Fixture.draft(Fixture.namespace(), Fixture.coordinate(1), ["tls": "yes"])], at: Fixture.now)
        var ssl = false
        for try await flag in try await storage.client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").decode(Bool.self) {
            ssl = flag
        }
        return ssl
    }

    @Test func requireEncryptsWithoutCheckingTheCertificate() async throws {
        #expect(try await Self.encrypted("?sslmode=require"))
    }

    @Test func verifyFullEncryptsWithTheGivenRoot() async throws {
        #expect(try await Self.encrypted("?sslmode=verify-full&sslrootcert=\(Self.authority)"))
    }

    @Test func disableStaysPlain() async throws {
        #expect(try await Self.encrypted("?sslmode=disable") == false)
    }

    @Test func verifyFullRefusesAnUntrustedCertificateAtStartUp() async throws {
        await #expect {
            _ = try await PostgresBackends.storage(
                BackendConfiguration(["POSTGRES_URL": Self.url + "?sslmode=verify-full", "POSTGRES_TIMEOUT_MS": "3000"])
            ).startedForTests()
        } throws: { error in
            let text = "\(error)"
            // The reason names the certificate check, and no credential leaks into it.
            return text.lowercased().contains("certificate") && !text.contains("soma-test-pw")
        }
    }
}

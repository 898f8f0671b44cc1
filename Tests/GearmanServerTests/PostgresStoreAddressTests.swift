import GearmanServer
import Testing

/// `--store postgres://...` and gearmand's `--libpq-conninfo` name the same database; passwords stay out of
/// what is printed.
@Suite struct PostgresStoreAddressTests {
    @Test func aURLGivesEveryPartAndDefaults() throws {
        let full = try #require(PostgresStoreAddress(url: "postgres://queue:s%40cret@db.example:6543/jobs"))
        #expect(
            full
                == PostgresStoreAddress(
                    host: "db.example", port: 6543, user: "queue", password: "s@cret", database: "jobs"))
        #expect(full.description == "postgres://queue:***@db.example:6543/jobs")

        let short = try #require(PostgresStoreAddress(url: "postgresql://queue@10.0.0.5"))
        #expect(
            short == PostgresStoreAddress(host: "10.0.0.5", port: 5432, user: "queue", password: nil, database: "queue")
        )
        #expect(PostgresStoreAddress(url: "postgres://queue@[::1]:7000/q?sslmode=disable")?.host == "::1")
        let secure = try #require(PostgresStoreAddress(url: "postgres://queue@db/jobs?sslmode=verify-full"))
        #expect(secure.tls == .verifyFull)
        #expect(secure.description == "postgres://queue@db:5432/jobs?sslmode=verify-full")
        #expect(PostgresStoreAddress(connectionString: "user=queue sslmode=require")?.tls == .require)
        #expect(
            StoreLocation("postgres://queue@db/jobs")
                == .postgres(PostgresStoreAddress(host: "db", user: "queue", database: "jobs")))
        #expect(StoreLocation("postgres://queue@db/jobs")?.isShared == true)
        #expect(StoreLocation("sqlite:/tmp/x.db")?.isShared == false)
    }

    @Test(arguments: [
        "postgres://db/jobs",  // no user
        "postgres://queue@db:0/jobs", "postgres://queue@db:70000/jobs", "postgres://queue@db:port/jobs",
        "postgres://queue@[::1/jobs", "postgres://q%zzueue@db/jobs", "mysql://queue@db/jobs",
        "postgres://queue@db/jobs?sslmode=allow", "postgres://queue@db/jobs?connect_timeout=3",
    ])
    func aBadURLIsRefused(_ text: String) {
        #expect(PostgresStoreAddress(url: text) == nil)
        #expect(StoreLocation(text) == nil)
    }

    @Test func aLibpqConnectionStringAsGearmandTakesIt() throws {
        let address = try #require(
            PostgresStoreAddress(
                connectionString: "host=db.example  port=6543 dbname=jobs user=queue password='it\\'s \\\\ ok'"))
        #expect(address.host == "db.example")
        #expect(address.port == 6543)
        #expect(address.database == "jobs")
        #expect(address.user == "queue")
        #expect(address.password == "it's \\ ok")
        #expect(
            PostgresStoreAddress(connectionString: "user=queue")
                == PostgresStoreAddress(user: "queue", database: "queue"))
        #expect(PostgresStoreAddress(connectionString: "dbname=jobs") == nil, "a user is required")
        #expect(
            PostgresStoreAddress(connectionString: "user=queue connect_timeout=3") == nil, "unknown keys are refused")
        #expect(PostgresStoreAddress(connectionString: "user=queue password='open") == nil)
        #expect(PostgresStoreAddress(connectionString: "user=queue port=99999") == nil)
    }

    @Test func groupSettingsThatCannotWorkAreNamed() {
        #expect(StoreGroupConfiguration().problem == nil)
        #expect(StoreGroupConfiguration(leaseRenewal: .seconds(5), leaseExpiry: .seconds(6)).problem != nil)
        #expect(StoreGroupConfiguration(leaseRenewal: .milliseconds(10), leaseExpiry: .seconds(6)).problem != nil)
        #expect(StoreGroupConfiguration(serverName: "").problem != nil)
        #expect(StoreGroupConfiguration(serverName: String(repeating: "n", count: 201)).problem != nil)
    }
}

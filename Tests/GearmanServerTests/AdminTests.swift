import GearmanProtocol
import GearmanServer
import NIOCore
import Testing

@Suite struct AdminTests {
    @Test func workersListsEveryConnectionWithItsIdentityAndFunctions() {
        let harness = EngineHarness()
        _ = harness.worker("other", "resize", clientID: "worker-A")
        let admin = harness.connect()
        #expect(harness.admin("workers", from: admin) == "1 127.0.0.1 worker-A : resize other\n2 127.0.0.1 - :\n.\n")
    }

    @Test func cancelFailsTheJobForItsClients() throws {
        let harness = EngineHarness()
        let client = harness.connect()
        let admin = harness.connect()
        let handle = try #require(harness.submit("f", from: client))
        #expect(harness.admin("cancel job \(handle.string)", from: admin) == "OK\r\n")
        #expect(harness.take(client) == [.workFail(handle: handle)])
        #expect(harness.admin("cancel job \(handle.string)", from: admin) == "ERR UNKNOWN_JOB\r\n")
        #expect(harness.admin("status", from: admin) == "f\t0\t0\t0\n.\n")
        let worker = harness.worker("f")
        #expect(harness.grab(worker) == nil)
    }

    @Test func showUniqueJobsListsUniques() {
        let harness = EngineHarness()
        let client = harness.connect()
        _ = harness.submit("f", unique: "alpha", background: true, from: client)
        _ = harness.submit("f", background: true, from: client)
        _ = harness.submit("g", unique: "beta", background: true, from: client)
        #expect(harness.admin("show unique jobs", from: client) == "alpha\nbeta\n.\n")
    }

    @Test func functionsAreCreatedAndDroppedOnlyWhenIdle() throws {
        let harness = EngineHarness()
        let admin = harness.connect()
        #expect(harness.admin("create function thumbnail", from: admin) == "OK\r\n")
        #expect(harness.admin("status", from: admin) == "thumbnail\t0\t0\t0\n.\n")
        _ = harness.submit("thumbnail", background: true, from: admin)
        #expect(
            harness.admin("drop function thumbnail", from: admin)
                == "ERR there are still connected workers or executing clients\r\n")
        let worker = harness.worker("thumbnail")
        harness.complete(try #require(harness.grab(worker)).handle, "", from: worker)
        harness.disconnect(worker)
        #expect(harness.admin("drop function THUMBNAIL", from: admin) == "OK\r\n")
        #expect(harness.admin("drop function thumbnail", from: admin) == "ERR function not found\r\n")
        #expect(harness.admin("status", from: admin) == ".\n")
    }

    @Test func identityCommands() {
        let harness = EngineHarness()
        let admin = harness.connect()
        #expect(harness.admin("getpid", from: admin) == "OK 4242\n")
        #expect(harness.admin("version", from: admin) == "OK \(GearboxVersion.protocolVersion)\n")
        #expect(harness.admin("verbose", from: admin) == "OK ERROR\n")
        #expect(harness.admin("nonsense", from: admin) == "ERR UNKNOWN_COMMAND Unknown+server+commandnonsense\r\n")
    }

    @Test func commandsThatChangeStateNeedAnAllowedConnection() {
        let harness = EngineHarness()
        let remote = harness.connect(host: "10.1.2.3")
        for command in ["create function f", "maxqueue f 1", "drop function f", "cancel job H:test:1"] {
            #expect(
                harness.admin(command, from: remote).hasPrefix("ERR PERMISSION_DENIED "), "\(command)")
        }
        #expect(harness.admin("status", from: remote) == ".\n")
        harness.engine.administrationGranted(to: remote)
        #expect(harness.admin("create function f", from: remote) == "OK\r\n")
        #expect(harness.admin("status", from: remote) == "f\t0\t0\t0\n.\n")
    }

    @Test func shutdownIsAcceptedFromLoopbackOnly() {
        let harness = EngineHarness()
        let remote = harness.connect(host: "10.1.2.3")
        #expect(harness.admin("shutdown", from: remote).hasPrefix("ERR PERMISSION_DENIED"))
        #expect(harness.takeOtherActions().isEmpty)
        let local = harness.connect()
        #expect(harness.admin("shutdown graceful", from: local) == "OK\r\n")
        guard case .shutdown(graceful: true) = harness.takeOtherActions().first else {
            Issue.record("shutdown action expected")
            return
        }
    }
}

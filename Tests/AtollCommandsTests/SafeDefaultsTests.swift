/// Protected mode's decision, the per-binding gates of protected commands and `rename-command`,
/// in-process.
import AtollCommands
import AtollCore
import Testing

@Suite struct ProtectedModeTests {
    @Test func refusesOnlyNonLocalClientsWhileTheDefaultUserIsOpen() {
        // Addresses as a session describes them: `ip:port` (IPv6 without brackets) or `unix:path`.
        for address in ["127.0.0.1:5000", "::1:5000", "unix:/tmp/s.sock"] {
            #expect(!ProtectedMode.refuses(protectedMode: true, defaultUserOpen: true, address: address), "\(address)")
        }
        for address in ["127.0.0.2:5000", "192.0.2.7:5000", "10.0.0.1:1", "::2:5000", "?:0"] {
            #expect(ProtectedMode.refuses(protectedMode: true, defaultUserOpen: true, address: address), "\(address)")
            #expect(!ProtectedMode.refuses(protectedMode: false, defaultUserOpen: true, address: address), "\(address)")
            #expect(!ProtectedMode.refuses(protectedMode: true, defaultUserOpen: false, address: address), "\(address)")
        }
    }

    @Test func followsProtectedModeAndRequirepass() throws {
        var config = ServerConfiguration()
        #expect(config.protectedMode)
        try config.load("protected-mode no")
        #expect(!config.protectedMode)
        try config.load("protected-mode yes\nrequirepass pw")
        let core = ServerCore(config: config)
        let remote = core.makeSession(address: "127.0.0.2:4000", localAddress: "127.0.0.1:6379", now: 0, connection: nil)
        #expect(!core.refusedByProtectedMode(remote))
        // What CONFIG SET requirepass "" does: the default user becomes nopass.
        core.acl.setDefaultPassword("")
        #expect(core.refusedByProtectedMode(remote))
        #expect(core.stats.rejectedConnections == 1)
    }
}

@Suite struct ProtectedGateTests {
    @Test func eachGateReadsItsOwnParameter() {
        let h = Harness { $0.enableModuleCommand = .yes }
        #expect(h.run("MODULE", "UNLOAD", "x") == err("ERR Error unloading module: no such module with that name"))
        #expect(h.run("DEBUG", "HELP").hasPrefix("-ERR DEBUG command not allowed. If the enable-debug-command option"))
        #expect(h.run("MODULE", "LIST") == "*0\r\n")
        let closed = Harness()
        #expect(closed.run("MODULE", "LOAD", "/x.so").hasPrefix("-ERR MODULE command not allowed. If the enable-module-command option"))
        #expect(closed.run("MODULE", "LIST") == "*0\r\n")
    }
}

@Suite struct RenameCommandDirectiveTests {
    @Test func renamesAndRemovalsChangeLookupOnly() throws {
        var config = ServerConfiguration()
        try config.load("rename-command get myget\nrename-command flushall \"\"\nrename-command myget other")
        #expect(config.commandRenames == [CommandRename(name: "get", newName: "myget"), CommandRename(name: "flushall", newName: ""),
                                          CommandRename(name: "myget", newName: "other")])
        let table = CommandTable.standard.renaming(config.commandRenames)
        #expect(table.lookup(Array("get".utf8)) == nil)
        #expect(table.lookup(Array("myget".utf8)) == nil)
        #expect(table.lookup(Array("OTHER".utf8))?.name == "get")
        #expect(table.lookup(Array("flushall".utf8)) == nil)
        #expect(table.all.count == CommandTable.standard.all.count - 1)
        #expect(table.all.contains { $0.name == "get" })
    }

    @Test func refusedRenamesGiveRedisReasons() {
        func reason(_ text: String) -> String? {
            var config = ServerConfiguration()
            do { try config.load(text) } catch { return "\(error)".split(separator: "\n").last.map(String.init) }
            return nil
        }
        #expect(reason("rename-command nosuch x") == "No such command in rename-command")
        #expect(reason("rename-command get set") == "Target command name already exists")
        #expect(reason("rename-command get") == "Bad directive or wrong number of arguments")
        #expect(reason("rename-command get x\nrename-command get y") == "No such command in rename-command")
        #expect(reason("rename-command get x\nrename-command set get") == nil)
    }
}

/// The assembly: the table of every command Atoll serves, from every family (these in
/// AtollCommands, scripting's in AtollScripting, persistence's in AtollPersistence), and the
/// `ServerCore` that serves it. The one place that sees every family.
import AtollCore
import AtollPersistence
import AtollScripting

extension CommandTable {
    /// Every family's commands.
    public static let standard = CommandTable(
        StringCommands.commands + BitmapCommands.commands + BitfieldCommands.commands + KeyCommands.commands
            + ConnectionCommands.commands + ServerCommands.commands
            + TransactionCommands.commands + CompareAndSetCommands.commands + ListCommands.commands
            + SortedSetCommands.commands + HashCommands.commands + SetCommands.commands + ScriptingCommands.commands
            + FunctionCommands.commands + PersistenceCommands.commands + SortCommands.commands
            + HyperLogLogCommands.commands + GeoCommands.commands + MemoryCommands.commands
            + LolwutCommand.commands + DumpCommands.commands + MigrateCommand.commands + DebugCommands.commands
            + PubSubCommands.commands + TrackingCommands.commands + AclCommands.commands
            + ModuleCommands.commands + StreamCommands.commands + ReplicationCommands.commands)
}

extension ServerCore {
    /// A server serving every command (`CommandTable.standard`), reading the time from `clock`.
    public convenience init(config: ServerConfiguration, clock: any ServerClock = SystemClock()) {
        self.init(config: config, table: .standard, clock: clock)
        clientDescriber = { client, now in ConnectionCommands.describe(client, now: now) }
    }
}

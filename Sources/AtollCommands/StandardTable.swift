/// The assembly: the table of every command Atoll serves, from every family (these in
/// AtollCommands, scripting's in AtollScripting, persistence's in AtollPersistence), and the
/// `ServerCore` that serves it. The one place that sees every family.
import AtollCore
import AtollPersistence
import AtollScripting

extension CommandTable {
    /// Every family's commands.
    public static let standard = CommandTable(
        StringCommands.specs + KeyCommands.specs + ConnectionCommands.specs + ServerCommands.specs
            + TransactionCommands.specs + CompareAndSetCommands.specs + ListCommands.specs
            + SortedSetCommands.specs + HashCommands.specs + SetCommands.specs + ScriptingCommands.specs
            + FunctionCommands.specs + PersistenceCommands.specs)
}

extension ServerCore {
    /// A server serving every command (`CommandTable.standard`).
    public convenience init(config: ServerConfiguration, now: Int64 = currentTimeMillis()) {
        self.init(config: config, table: .standard, now: now)
    }
}

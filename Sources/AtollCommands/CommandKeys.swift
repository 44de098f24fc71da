/// COMMAND GETKEYS and COMMAND GETKEYSANDFLAGS: the keys of a full command line, found as the
/// dispatcher finds them (`CommandSpec.keyIndices`), with Redis 7.0's errors; GETKEYSANDFLAGS
/// adds each key's key-spec flags (`RW`, `access`, ...), as a set.
import AtollCore
import AtollRESP

enum CommandKeys {
    static func getkeys(_ c: inout CommandContext) {
        guard let (args, keys) = keys(&c) else { return }
        c.out.arrayHeader(keys.count)
        for key in keys { c.out.bulk(args[key.position]) }
    }

    static func getkeysAndFlags(_ c: inout CommandContext) {
        guard let (args, keys) = keys(&c) else { return }
        c.out.arrayHeader(keys.count)
        for key in keys {
            c.out.arrayHeader(2)
            c.out.bulk(args[key.position])
            c.out.setHeader(key.flags.count)
            for flag in key.flags { c.out.status(text: flag) }
        }
    }

    /// The command line after `COMMAND GETKEYS...` and its keys; nil after replying Redis's
    /// error (unknown command, none of its arguments are keys, wrong arity, bad arguments).
    private static func keys(_ c: inout CommandContext) -> ([[UInt8]], [(position: Int, flags: [String])])? {
        let args = Array(c.args[2...])
        guard case .found(let spec) = c.server.table.resolve(args) else {
            c.out.error("ERR Invalid command specified")
            return nil
        }
        guard spec.hasKeys else {
            c.out.error("ERR The command has no key arguments")
            return nil
        }
        guard spec.arityMatches(args.count) else {
            c.out.error("ERR Invalid number of arguments specified for command")
            return nil
        }
        // No keys, or a key count that contradicts the arguments: an empty reply for a command
        // whose keys are optional (EVAL), an error for the others.
        guard let keys = spec.keysAndFlags(args), !keys.isEmpty else {
            if spec.flags.contains(.noMandatoryKeys) { return (args, []) }
            c.out.error("ERR Invalid arguments specified for command")
            return nil
        }
        return (args, keys)
    }
}

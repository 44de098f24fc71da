/// Server commands: COMMAND INFO CONFIG TIME LASTSAVE SHUTDOWN SLOWLOG LATENCY MONITOR.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollPersistence
import AtollRESP
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum ServerCommands {
    static let commands: [CommandBinding] = [
        .init("command", command),
        .init("command|getkeys", CommandKeys.getkeys),
        .init("command|getkeysandflags", CommandKeys.getkeysAndFlags),
        .init("command|info", commandInfo),
        .init("command|help", commandHelp),
        .init("command|list", commandList),
        .init("command|count", commandCount),
        .init("command|docs", commandDocs),
        .init("info", info),
        .init("config|get", configGet),
        .init("config|help", configHelp),
        .init("config|set", configSet),
        .init("config|resetstat", configResetstat),
        .init("config|rewrite", configRewrite),
        .init("time", time),
        .init("lastsave", lastsave),
        .init("shutdown", shutdown),
        .init("slowlog|reset", slowlogReset),
        .init("slowlog|len", slowlogLen),
        .init("slowlog|help", slowlogHelp),
        .init("slowlog|get", slowlogGet),
        .init("latency|help", latencyHelp),
        .init("latency|doctor", latencyDoctor),
        .init("latency|latest", latencyLatest),
        .init("latency|history", latencyHistory),
        .init("latency|reset", latencyReset),
        .init("latency|graph", latencyGraph),
        .init("latency|histogram", CommandStatistics.latencyHistogram),
        .init("monitor", monitor),
    ]

    // MARK: - COMMAND

    static func command(_ c: inout CommandContext) {
        let all = c.server.table.all
        c.out.arrayHeader(all.count)
        for spec in all { writeInfo(spec, &c.out) }
    }

    static func commandCount(_ c: inout CommandContext) { c.out.integer(c.server.table.all.count) }

    static func commandInfo(_ c: inout CommandContext) {
        let table = c.server.table
        if c.args.count == 2 {
            c.out.arrayHeader(table.all.count)
            for spec in table.all { writeInfo(spec, &c.out) }
            return
        }
        c.out.arrayHeader(c.args.count - 2)
        for i in 2..<c.args.count {
            if let spec = lookupFullName(table, c.args[i]) { writeInfo(spec, &c.out) } else { c.out.null() }
        }
    }

    /// `name` or `container|sub`.
    static func lookupFullName(_ table: CommandTable, _ name: [UInt8]) -> CommandSpec? {
        if let bar = name.firstIndex(of: UInt8(ascii: "|")) {
            return table.lookup(Array(name[..<bar]))?.subcommand(named: Array(name[(bar + 1)...]))
        }
        return table.lookup(name)
    }

    /// One COMMAND INFO entry, in Redis 7's ten-field layout.
    static func writeInfo(_ spec: CommandSpec, _ out: inout ReplyWriter) {
        out.arrayHeader(10)
        out.bulk(spec.name)
        out.integer(spec.arity)
        let flags = CommandFlags.names.filter { spec.flags.contains($0.0) }
        out.setHeader(flags.count)
        for (_, name) in flags { out.status(name) }
        out.integer(spec.keyPositions.first)
        out.integer(spec.keyPositions.last)
        out.integer(spec.keyPositions.step)
        out.setHeader(spec.aclCategories.count)
        for category in spec.aclCategories { out.status(text: "@" + category) }
        out.setHeader(spec.tips.count)
        for tip in spec.tips { out.bulk(tip) }
        out.setHeader(spec.keySpecs.count)
        for keySpec in spec.keySpecs { writeKeySpec(keySpec, &out) }
        // Redis 7.0 replies an empty set for none and an array otherwise.
        if spec.subcommands.isEmpty { out.setHeader(0) } else { out.arrayHeader(spec.subcommands.count) }
        for sub in spec.subcommands { writeInfo(sub, &out) }
    }

    static func writeKeySpec(_ k: KeySpec, _ out: inout ReplyWriter) {
        out.mapHeader(k.notes == nil ? 3 : 4)
        if let notes = k.notes { out.bulk("notes"); out.bulk(notes) }
        out.bulk("flags")
        out.setHeader(k.flags.count)
        for f in k.flags { out.status(text: f) }
        out.bulk("begin_search")
        out.mapHeader(2)
        out.bulk("type")
        switch k.begin {
        case .index(let i):
            out.bulk("index"); out.bulk("spec"); out.mapHeader(1); out.bulk("index"); out.integer(i)
        case .keyword(let word, let startFrom):
            out.bulk("keyword"); out.bulk("spec"); out.mapHeader(2)
            out.bulk("keyword"); out.bulk(word); out.bulk("startfrom"); out.integer(startFrom)
        case .unknown:
            out.bulk("unknown"); out.bulk("spec"); out.mapHeader(0)
        }
        out.bulk("find_keys")
        out.mapHeader(2)
        out.bulk("type")
        switch k.find {
        case .range(let last, let step, let limit):
            out.bulk("range"); out.bulk("spec"); out.mapHeader(3)
            out.bulk("lastkey"); out.integer(last); out.bulk("keystep"); out.integer(step); out.bulk("limit"); out.integer(limit)
        case .keynum(let index, let first, let step):
            out.bulk("keynum"); out.bulk("spec"); out.mapHeader(3)
            out.bulk("keynumidx"); out.integer(index); out.bulk("firstkey"); out.integer(first); out.bulk("keystep"); out.integer(step)
        case .unknown:
            out.bulk("unknown"); out.bulk("spec"); out.mapHeader(0)
        }
    }

    static func commandDocs(_ c: inout CommandContext) {
        let table = c.server.table
        var specs: [CommandSpec] = []
        if c.args.count == 2 {
            specs = table.all
        } else {
            for i in 2..<c.args.count { if let s = lookupFullName(table, c.args[i]) { specs.append(s) } }
        }
        c.out.mapHeader(specs.count)
        for spec in specs { writeDocs(spec, &c.out) }
    }

    /// One COMMAND DOCS entry, with Redis 7.0's fields in its order; the subcommands are the
    /// ones Atoll serves.
    static func writeDocs(_ spec: CommandSpec, _ out: inout ReplyWriter) {
        let docs = spec.docs
        out.bulk(spec.name)
        let optional: [Bool] = [docs.summary != nil, docs.since != nil, docs.complexity != nil, !docs.docFlags.isEmpty,
                                docs.deprecatedSince != nil, docs.replacedBy != nil, !docs.history.isEmpty,
                                docs.arguments != nil, !spec.subcommands.isEmpty]
        out.mapHeader(1 + optional.filter { $0 }.count)
        writeField("summary", docs.summary, &out)
        writeField("since", docs.since, &out)
        writeField("group", docs.group, &out)
        writeField("complexity", docs.complexity, &out)
        writeStatusSet("doc_flags", docs.docFlags, &out)
        writeField("deprecated_since", docs.deprecatedSince, &out)
        writeField("replaced_by", docs.replacedBy, &out)
        if !docs.history.isEmpty {
            // A set in RESP3, as Redis 7.0 replies.
            out.bulk("history")
            out.setHeader(docs.history.count)
            for (version, change) in docs.history {
                out.arrayHeader(2)
                out.bulk(version)
                out.bulk(change)
            }
        }
        if let arguments = docs.arguments {
            out.bulk("arguments")
            writeArguments(arguments, &out)
        }
        if !spec.subcommands.isEmpty {
            out.bulk("subcommands")
            out.mapHeader(spec.subcommands.count)
            for sub in spec.subcommands { writeDocs(sub, &out) }
        }
    }

    private static func writeArguments(_ arguments: [CommandArgument], _ out: inout ReplyWriter) {
        out.arrayHeader(arguments.count)
        for argument in arguments {
            let optional: [Bool] = [argument.keySpecIndex != nil, argument.token != nil, argument.summary != nil,
                                    argument.since != nil, argument.deprecatedSince != nil, !argument.flags.isEmpty,
                                    argument.arguments != nil]
            out.mapHeader(2 + optional.filter { $0 }.count)
            writeField("name", argument.name, &out)
            writeField("type", argument.type, &out)
            if let index = argument.keySpecIndex {
                out.bulk("key_spec_index")
                out.integer(index)
            }
            writeField("token", argument.token, &out)
            writeField("summary", argument.summary, &out)
            writeField("since", argument.since, &out)
            writeField("deprecated_since", argument.deprecatedSince, &out)
            writeStatusSet("flags", argument.flags, &out)
            if let parts = argument.arguments {
                out.bulk("arguments")
                writeArguments(parts, &out)
            }
        }
    }

    private static func writeField(_ name: String, _ value: String?, _ out: inout ReplyWriter) {
        guard let value else { return }
        out.bulk(name)
        out.bulk(value)
    }

    private static func writeStatusSet(_ name: String, _ values: [String], _ out: inout ReplyWriter) {
        guard !values.isEmpty else { return }
        out.bulk(name)
        out.setHeader(values.count)
        for value in values { out.status(text: value) }
    }

    static func commandList(_ c: inout CommandContext) {
        var names = c.server.table.all.flatMap { [$0.name] + $0.subcommands.map(\.name) }
        if c.args.count > 2 {
            guard c.args.count == 5, c.argIs(2, "filterby") else { return c.syntaxError() }
            let value = String(decoding: c.args[4], as: UTF8.self)
            if c.argIs(3, "aclcat") {
                let all = c.server.table.all.flatMap { [$0] + $0.subcommands }
                names = all.filter { $0.aclCategories.contains(value) }.map(\.name)
            } else if c.argIs(3, "pattern") {
                names = names.filter { globMatch(c.args[4], Array($0.utf8), noCase: true) }
            } else if c.argIs(3, "module") {
                names = []
            } else {
                return c.syntaxError()
            }
        }
        c.out.arrayHeader(names.count)
        for name in names { c.out.bulk(name) }
    }

    static func commandHelp(_ c: inout CommandContext) {
        replyHelp(&c, "COMMAND", [
            "(no subcommand)", "    Return details about all commands.",
            "COUNT", "    Return the total number of commands in this server.",
            "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]",
            "    Return a list of all commands in this server.",
            "INFO [<command-name> ...]", "    Return details about the given commands, or all of them.",
            "DOCS [<command-name> ...]", "    Return documentation details about the given commands, or all of them.",
            "GETKEYS <full-command>", "    Return the keys from a full command.",
            "GETKEYSANDFLAGS <full-command>", "    Return the keys and the access flags from a full command.",
        ])
    }

    // MARK: - INFO

    /// Redis 7.0's section rules: no argument or `default` gives the default sections, `all`
    /// and `everything` every section, other words name sections (several may be given);
    /// sections come in Redis's order, separated by an empty line.
    static func info(_ c: inout CommandContext) {
        var wanted = Set<String>()
        var all = false
        if c.args.count == 1 { wanted.formUnion(InfoSections.defaults) }
        for arg in c.args.dropFirst() {
            let word = String(decoding: arg, as: UTF8.self).lowercased()
            switch word {
            case "default": wanted.formUnion(InfoSections.defaults)
            case "all", "everything": all = true
            default: wanted.insert(word)
            }
        }
        var sections: [String] = []
        for (name, aliases) in InfoSections.order where all || wanted.contains(name) || !wanted.isDisjoint(with: aliases) {
            sections.append(InfoSections.render(name, &c))
        }
        c.out.verbatim(sections.joined(separator: "\r\n"))
    }

    // MARK: - CONFIG

    static func configGet(_ c: inout CommandContext) {
        var pairs: [(String, String)] = []
        var seen = Set<String>()
        for i in 2..<c.args.count {
            let typed = String(decoding: c.args[i], as: UTF8.self)
            // A name without glob characters is looked up directly and echoed as typed.
            if !c.args[i].contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }) {
                if let p = ConfigParameter.named(typed), seen.insert(typed).inserted {
                    pairs.append((typed, p.value(in: c.server.config)))
                }
                continue
            }
            let pattern = Array(typed.lowercased().utf8)
            for p in ConfigParameter.all where !p.isHidden {
                for name in [p.name] + (p.alias.map { [$0] } ?? []) where globMatch(pattern, Array(name.utf8), noCase: true) {
                    if seen.insert(name).inserted { pairs.append((name, p.value(in: c.server.config))) }
                }
            }
        }
        c.out.mapHeader(pairs.count)
        for (name, value) in pairs {
            c.out.bulk(name)
            c.out.bulk(value)
        }
    }

    /// Rewrites the configuration file with the running values (see `rewrittenConfigFile`),
    /// through a temporary file renamed over it.
    static func configRewrite(_ c: inout CommandContext) {
        let config = c.server.config
        guard let path = config.configFile else { return c.out.error("ERR The server is running without a config file") }
        let old = readConfigFile(path) ?? ""
        let text = config.rewrittenConfigFile(old, userLines: c.server.acl.sortedUsers.map(\.configLine))
        let temporary = path + ".tmp-\(getpid())"
        guard let file = fopen(temporary, "w") else { return c.out.error("ERR Rewriting config file: \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let written = bytes.isEmpty ? 0 : fwrite(bytes, 1, bytes.count, file)
        let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
        fclose(file)
        guard written == bytes.count, flushed, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            return c.out.error("ERR Rewriting config file: \(reason)")
        }
        c.out.ok()
    }

    static func configSet(_ c: inout CommandContext) {
        guard c.args.count % 2 == 0 else { return c.syntaxError() }
        // Every name first, as in Redis: an unknown, immutable, protected or repeated parameter
        // is refused before any value is parsed.
        var changes: [(parameter: ConfigParameter, name: String, value: String)] = []
        for i in stride(from: 2, to: c.args.count, by: 2) {
            let name = String(decoding: c.args[i], as: UTF8.self)
            guard let parameter = ConfigParameter.named(name) else {
                return c.out.error("ERR Unknown option or number of arguments for CONFIG SET - '\(name)'")
            }
            guard parameter.mutable else {
                return c.out.error("ERR CONFIG SET failed (possibly related to argument '\(name)') - can't set immutable config")
            }
            guard !parameter.isProtected || c.server.config.enableProtectedConfigs.allows(c.client) else {
                return c.out.error("ERR CONFIG SET failed (possibly related to argument '\(name)') - can't set protected config")
            }
            // Redis compares the names as typed: an alias and its parameter are no duplicate
            // (the later one wins).
            guard !changes.contains(where: { $0.name.lowercased() == name.lowercased() }) else {
                return c.out.error("ERR CONFIG SET failed (possibly related to argument '\(name)') - duplicate parameter")
            }
            changes.append((parameter, name, String(decoding: c.args[i + 1], as: UTF8.self)))
        }
        var updated = c.server.config
        for (parameter, name, value) in changes {
            if let reason = parameter.apply([value], to: &updated) {
                return c.out.error("ERR CONFIG SET failed (possibly related to argument '\(name)') - \(reason)")
            }
        }
        // Redis's `applyTlsCfg`: a failure is named after the first such parameter in the request.
        let tlsChange = changes.first { TLSSettings.contextParameterNames.contains($0.parameter.name) }
        if tlsChange != nil || changes.contains(where: { TLSSettings.parameterNames.contains($0.parameter.name) }),
           let reason = c.server.tlsReconfigure?(updated, tlsChange != nil), let tlsChange {
            c.server.logHandler?(3, "Failed applying new configuration. Possibly related to new \(tlsChange.parameter.name) setting. Restoring previous settings.")
            return c.out.error("ERR CONFIG SET failed (possibly related to argument '\(tlsChange.name)') - \(reason)")
        }
        let wasAppendOnly = c.server.config.appendOnly
        // As in Redis, setting requirepass (even to its value) makes it the default user's only password.
        let passwordChanged = changes.contains { $0.parameter.name == "requirepass" }
        let limitChanged = updated.maxMemory != c.server.config.maxMemory
        c.server.config = updated
        if passwordChanged { c.server.acl.setDefaultPassword(updated.requirePass) }
        c.server.acl.channelsByDefault = updated.aclChannelsByDefault
        if limitChanged && c.server.maxMemory != 0 { c.server.maxMemoryChanged(now: c.now) }
        c.server.appendOnlyFile?.fsyncPolicy = updated.appendFsync
        if updated.appendOnly != wasAppendOnly {
            if updated.appendOnly {
                if let error = c.server.startAppendOnly(now: c.now, log: { [server = c.server] level, message in server.logHandler?(level, message) }) {
                    c.server.config.appendOnly = false
                    return c.out.error("ERR CONFIG SET failed (possibly related to argument 'appendonly') - \(error)")
                }
            } else {
                c.server.stopAppendOnly()
            }
        }
        c.out.ok()
    }

    static func configResetstat(_ c: inout CommandContext) {
        c.server.stats = ServerStats()
        c.server.instantaneous = InstantaneousMetrics()
        c.keyspace.stats = KeyspaceStats()
        c.server.slowlog.reset()
        c.server.resetCommandStatistics()
        c.server.resetEvictionStatistics()
        c.out.ok()
    }

    static func configHelp(_ c: inout CommandContext) {
        replyHelp(&c, "CONFIG", [
            "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
            "RESETSTAT", "    Reset statistics reported by the INFO command.",
        ])
    }

    // MARK: - Time, saving, shutdown

    static func time(_ c: inout CommandContext) {
        let micros = currentTimeMicros()
        c.out.arrayHeader(2)
        c.out.bulk(Array(String(micros / 1_000_000).utf8))
        c.out.bulk(Array(String(micros % 1_000_000).utf8))
    }

    static func lastsave(_ c: inout CommandContext) { c.out.integer(c.server.lastSave) }

    static func shutdown(_ c: inout CommandContext) {
        var save: Bool?
        var force = false
        for j in 1..<c.args.count {
            guard c.argIs(j, "nosave") || c.argIs(j, "save") || c.argIs(j, "now") || c.argIs(j, "force") else {
                if c.argIs(j, "abort") { return c.out.error("ERR No shutdown in progress.") }
                return c.syntaxError()
            }
            if c.argIs(j, "nosave") { save = false } else if c.argIs(j, "save") { save = true } else if c.argIs(j, "force") { force = true }
        }
        guard let handler = c.server.shutdownHandler else { return c.out.error("ERR Errors trying to SHUTDOWN. Check logs.") }
        if !c.server.prepareForShutdown(save: save, now: c.now) && !force {
            return c.out.error("ERR Errors trying to SHUTDOWN. Check logs.")
        }
        c.client.closeAfterReply = true
        handler()
    }

    // MARK: - SLOWLOG

    static func slowlogGet(_ c: inout CommandContext) {
        var count = 10
        if c.args.count == 3 {
            guard let n = parseStrictInt64(c.args[2]), n >= -1 else {
                return c.out.error("ERR count should be greater than or equal to -1")
            }
            count = n == -1 ? Int.max : Int(n)
        } else if c.args.count > 3 {
            return c.out.error("ERR unknown subcommand or wrong number of arguments for '\(cText(c.args[1], max: 128))'. Try SLOWLOG HELP.")
        }
        let entries = c.server.slowlog.entries.reversed().prefix(count)
        c.out.arrayHeader(entries.count)
        for e in entries {
            c.out.arrayHeader(6)
            c.out.integer(e.id)
            c.out.integer(e.timestamp)
            c.out.integer(e.durationMicros)
            c.out.arrayHeader(e.args.count)
            for a in e.args { c.out.bulk(a) }
            c.out.bulk(e.clientAddress)
            c.out.bulk(e.clientName)
        }
    }

    static func slowlogLen(_ c: inout CommandContext) { c.out.integer(c.server.slowlog.entries.count) }

    static func slowlogReset(_ c: inout CommandContext) {
        c.server.slowlog.reset()
        c.server.resetCommandStatistics()
        c.out.ok()
    }

    static func slowlogHelp(_ c: inout CommandContext) {
        replyHelp(&c, "SLOWLOG", [
            "GET [<count>]", "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "LEN", "    Return the length of the slowlog.",
            "RESET", "    Reset the slowlog.",
        ])
    }

    // MARK: - LATENCY (the monitor's subcommands are in LatencyCommands.swift)

    static func latencyHelp(_ c: inout CommandContext) {
        replyHelp(&c, "LATENCY", [
            "DOCTOR", "    Return a human readable latency analysis report.",
            "GRAPH <event>", "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>", "    Return time-latency samples for the <event> class.",
            "LATEST", "    Return the latest latency samples for all events.",
            "RESET [<event> ...]", "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ])
    }

    // MARK: - MONITOR

    static func monitor(_ c: inout CommandContext) {
        // Inside EXEC a reply per command is expected, so the client cannot become a monitor.
        if c.client.executingTransaction { return c.out.error("ERR MONITOR isn't allowed for DENY BLOCKING client") }
        guard !c.client.isMonitor else { return c.out.ok() }
        c.client.isMonitor = true
        c.server.monitors.append(c.client)
        c.out.ok()
    }
}

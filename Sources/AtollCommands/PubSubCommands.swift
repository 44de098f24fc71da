/// Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB. The
/// registry and the delivery are in AtollCore's PubSub.swift.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

enum PubSubCommands {
    static let commands: [CommandBinding] = [
        .init("subscribe", [.allowedWhileSubscribed, .subscribesChannels]) { subscribe(&$0, .channel) },
        .init("psubscribe", [.allowedWhileSubscribed, .subscribesPatterns]) { subscribe(&$0, .pattern) },
        .init("ssubscribe", [.allowedWhileSubscribed, .subscribesChannels]) { subscribe(&$0, .shard) },
        .init("unsubscribe", .allowedWhileSubscribed) { unsubscribe(&$0, .channel) },
        .init("punsubscribe", .allowedWhileSubscribed) { unsubscribe(&$0, .pattern) },
        .init("sunsubscribe", .allowedWhileSubscribed) { unsubscribe(&$0, .shard) },
        .init("publish", .publishes) { publish(&$0, .channel) },
        .init("spublish", .publishes) { publish(&$0, .shard) },
        .init("pubsub|channels") { channels(&$0, .channel) },
        .init("pubsub|shardchannels") { channels(&$0, .shard) },
        .init("pubsub|numsub") { numsub(&$0, .channel) },
        .init("pubsub|shardnumsub") { numsub(&$0, .shard) },
        .init("pubsub|numpat", numpat),
        .init("pubsub|help", help),
    ]

    private static let publishName = Array("PUBLISH".utf8), spublishName = Array("SPUBLISH".utf8)

    static func subscribe(_ c: inout CommandContext, _ kind: SubscriptionKind) {
        for name in c.args.dropFirst() { c.server.subscribe(c.client, kind, name, out: &c.out) }
    }

    static func unsubscribe(_ c: inout CommandContext, _ kind: SubscriptionKind) {
        c.server.unsubscribe(c.client, kind, Array(c.args.dropFirst()), out: &c.out)
    }

    static func publish(_ c: inout CommandContext, _ kind: SubscriptionKind) {
        // A primary with replicas sends the message down the stream (not to the append-only
        // file), so their subscribers get it too, as Redis does outside a cluster; Sentinel's
        // hellos reach the replicas' subscribers that way. Not yet from inside EXEC or a
        // script (their effects are one unit the message would split).
        if c.server.replication.backlog != nil && c.server.replication.master == nil
            && !c.client.executingTransaction && !c.client.isScriptClient {
            c.server.propagateToReplicasOnly([kind == .shard ? spublishName : publishName, c.args[1], c.args[2]])
        }
        // Nobody subscribed to anything: no argument is touched (each costs reference counting).
        if c.server.pubsub.isEmpty { return c.out.integer(0) }
        // One reference to the argument list, not one to each argument.
        let args = c.args
        let receivers = c.server.publish(kind, channel: args[1], message: args[2], current: c.client, out: &c.out, now: c.now)
        c.out.integer(receivers)
    }

    /// PUBSUB CHANNELS / SHARDCHANNELS [pattern]: the channels with a subscriber.
    static func channels(_ c: inout CommandContext, _ kind: SubscriptionKind) {
        guard c.args.count <= 3 else { return subcommandSyntaxError(&c) }
        let pattern = c.args.count == 3 ? c.args[2] : nil
        let names = c.server.pubsub.subscribers(kind).lists.map(\.name).filter { name in
            pattern.map { globMatch($0, name) } ?? true
        }
        c.out.arrayHeader(names.count)
        for name in names { c.out.bulk(name) }
    }

    /// PUBSUB NUMSUB / SHARDNUMSUB [channel ...]: each channel and its subscriber count
    /// (patterns not counted).
    static func numsub(_ c: inout CommandContext, _ kind: SubscriptionKind) {
        let table = c.server.pubsub.subscribers(kind)
        let names = c.args.dropFirst(2)
        // A flat array in both protocols, as Redis 7.0 replies.
        c.out.arrayHeader(names.count * 2)
        for name in names {
            c.out.bulk(name)
            c.out.integer(table[name]?.clients.count ?? 0)
        }
    }

    static func numpat(_ c: inout CommandContext) {
        c.out.integer(c.server.pubsub.patterns.count)
    }

    static func help(_ c: inout CommandContext) {
        replyHelp(&c, "PUBSUB", [
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ])
    }

    private static func subcommandSyntaxError(_ c: inout CommandContext) {
        c.out.error("ERR unknown subcommand or wrong number of arguments for '\(cText(c.args[1], max: 128))'. Try PUBSUB HELP.")
    }
}

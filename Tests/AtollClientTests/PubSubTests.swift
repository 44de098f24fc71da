/// Pub/Sub through `RedisSubscriber`, in RESP3 (messages as pushes) and RESP2 (messages as
/// arrays on the subscribed connection): messages arrive in order, pattern subscriptions name
/// their pattern, unsubscribing stops delivery, and a flood of messages is never taken for
/// the confirmations of subscribe calls made meanwhile (nor, in RESP3, for command replies).
import AtollClient
import AtollRESP
import Testing

@Suite(.timeLimit(.minutes(1))) struct PubSubTests {
    @Test(arguments: [ConnectionConfiguration.ProtocolPreference.resp3, .resp2])
    func channelMessagesArriveInOrder(protocol preference: ConnectionConfiguration.ProtocolPreference) async throws {
        try await withTestClient { publisher async throws in
            let subscriber = try await RedisSubscriber.connect(configuration: TestServer.connectionConfiguration(protocol: preference))
            #expect(subscriber.protocolVersion == (preference == .resp3 ? 3 : 2))
            let channel = uniqueKey()
            try await subscriber.subscribe(to: [channel, channel + ":other"])
            #expect(subscriber.subscribedChannels == [channel, channel + ":other"])
            for i in 0..<20 { #expect(try await publisher.send("PUBLISH", channel, "m\(i)").int() == 1) }
            var iterator = subscriber.messages.makeAsyncIterator()
            for i in 0..<20 {
                let message = try #require(try await iterator.next())
                #expect(message == PubSubMessage(channel: channel, payload: Array("m\(i)".utf8)))
            }
            try await subscriber.unsubscribe(from: [channel])
            #expect(subscriber.subscribedChannels == [channel + ":other"])
            #expect(try await publisher.send("PUBLISH", channel, "late").int() == 0)
            try await subscriber.unsubscribe()
            #expect(subscriber.subscribedChannels.isEmpty)
            #expect(try await publisher.send("PUBLISH", channel + ":other", "late").int() == 0)
            await subscriber.close()
            // Closed by us: the sequence ends without an error.
            while try await iterator.next() != nil {}
        }
    }

    @Test(arguments: [ConnectionConfiguration.ProtocolPreference.resp3, .resp2])
    func patternSubscriptionsNameThePattern(protocol preference: ConnectionConfiguration.ProtocolPreference) async throws {
        try await withTestClient { publisher async throws in
            let subscriber = try await RedisSubscriber.connect(configuration: TestServer.connectionConfiguration(protocol: preference))
            let prefix = uniqueKey()
            try await subscriber.subscribe(toPatterns: [prefix + ":*"])
            #expect(try await publisher.send("PUBLISH", prefix + ":a", "x").int() == 1)
            #expect(try await publisher.send("PUBLISH", prefix + "-no", "y").int() == 0)
            #expect(try await publisher.send("PUBLISH", prefix + ":b", "z").int() == 1)
            var iterator = subscriber.messages.makeAsyncIterator()
            #expect(try await iterator.next() == PubSubMessage(channel: prefix + ":a", pattern: prefix + ":*", payload: Array("x".utf8)))
            #expect(try await iterator.next() == PubSubMessage(channel: prefix + ":b", pattern: prefix + ":*", payload: Array("z".utf8)))
            try await subscriber.unsubscribe(fromPatterns: nil)
            #expect(subscriber.subscribedPatterns.isEmpty)
            #expect(try await publisher.send("PUBLISH", prefix + ":a", "late").int() == 0)
            await subscriber.close()
        }
    }

    /// A publisher floods the channel while the subscriber subscribes to and unsubscribes from
    /// other channels: every call returns its own confirmations and every message arrives, in
    /// order, none lost to (or taken for) a confirmation.
    @Test(arguments: [ConnectionConfiguration.ProtocolPreference.resp3, .resp2])
    func messagesAreNeverTakenForReplies(protocol preference: ConnectionConfiguration.ProtocolPreference) async throws {
        try await withTestClient { publisher async throws in
            let subscriber = try await RedisSubscriber.connect(configuration: TestServer.connectionConfiguration(protocol: preference))
            let channel = uniqueKey()
            try await subscriber.subscribe(to: [channel])
            let count = 500
            async let published: Void = {
                for i in 0..<count { try await publisher.send("PUBLISH", channel, "\(i)") }
            }()
            for round in 0..<50 {
                let others = (0..<3).map { "\(channel):extra:\(round):\($0)" }
                try await subscriber.subscribe(to: others)
                try await subscriber.unsubscribe(from: others)
            }
            try await published
            var received: [String] = []
            for try await message in subscriber.messages {
                #expect(message.channel == channel)
                received.append(message.text)
                if received.count == count { break }
            }
            #expect(received == (0..<count).map { "\($0)" })
            #expect(subscriber.subscribedChannels == [channel])
            await subscriber.close()
        }
    }

    /// RESP3 only: a connection that is subscribed can still run commands, and the pushes that
    /// come between its replies are not taken for them.
    @Test func resp3PushesBetweenRepliesAreNotReplies() async throws {
        let connection = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration(protocol: .resp3))
        let channel = uniqueKey()
        try await withTestClient { publisher async throws in
            #expect(try await connection.send("SUBSCRIBE", channel).array().first?.string() == "subscribe")
            for i in 0..<50 {
                #expect(try await publisher.send("PUBLISH", channel, "push \(i)").int() == 1)
                #expect(try await connection.send("ECHO", "reply \(i)").string() == "reply \(i)")
            }
        }
        await connection.close()
    }

    @Test func lostConnectionEndsTheSequenceWithAnError() async throws {
        try await withTestClient { client async throws in
            var configuration = TestServer.connectionConfiguration()
            let name = "subscriber-" + String(UInt64.random(in: 0...UInt64.max))
            configuration.clientName = name
            let subscriber = try await RedisSubscriber.connect(configuration: configuration)
            try await subscriber.subscribe(to: [uniqueKey()])
            // Found by its name, then killed.
            let list = try await client.send("CLIENT", "LIST").string() ?? ""
            let line = try #require(list.split(separator: "\n").first { $0.contains(" name=\(name) ") })
            let id = try #require(line.split(separator: " ").first { $0.hasPrefix("id=") }.flatMap { Int($0.dropFirst(3)) })
            #expect(try await client.send("CLIENT", "KILL", "ID", id).int() == 1)
            await #expect(throws: RedisClientError.connectionClosed) {
                for try await _ in subscriber.messages {}
            }
            await subscriber.close()
        }
    }
}

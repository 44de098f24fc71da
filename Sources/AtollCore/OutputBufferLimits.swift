/// `client-output-buffer-limit`: how much output a client may leave unread before it is
/// closed, per class of client (Redis's `clientBufferLimitsConfig`).
import AtollBytes

/// The classes Redis limits separately; a client with any subscription is `pubsub`.
public enum ClientClass: Sendable, CaseIterable {
    case normal, replica, pubsub

    /// The name CONFIG GET prints (`slave`, as Redis 7.0 still writes it).
    var configName: String {
        switch self {
        case .normal: return "normal"
        case .replica: return "slave"
        case .pubsub: return "pubsub"
        }
    }
}

/// One class's limits: past `hard` bytes the client is closed at once; past `soft` for
/// longer than `softSeconds` it is closed too. 0 disables a limit.
public struct OutputBufferLimit: Sendable, Equatable {
    public var hard: Int
    public var soft: Int
    public var softSeconds: Int64

    public init(hard: Int, soft: Int, softSeconds: Int64) {
        self.hard = hard
        self.soft = soft
        self.softSeconds = softSeconds
    }
}

public struct OutputBufferLimits: Sendable, Equatable {
    public var normal = OutputBufferLimit(hard: 0, soft: 0, softSeconds: 0)
    public var replica = OutputBufferLimit(hard: 256 << 20, soft: 64 << 20, softSeconds: 60)
    public var pubsub = OutputBufferLimit(hard: 32 << 20, soft: 8 << 20, softSeconds: 60)

    public init() {}

    public subscript(kind: ClientClass) -> OutputBufferLimit {
        get {
            switch kind {
            case .normal: return normal
            case .replica: return replica
            case .pubsub: return pubsub
            }
        }
        set {
            switch kind {
            case .normal: normal = newValue
            case .replica: replica = newValue
            case .pubsub: pubsub = newValue
            }
        }
    }

    /// `normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60`, as CONFIG GET.
    var text: String {
        ClientClass.allCases.map { "\($0.configName) \(self[$0].hard) \(self[$0].soft) \(self[$0].softSeconds)" }
            .joined(separator: " ")
    }

    /// Applies groups of `<class> <hard> <soft> <soft seconds>`; Redis's error reason, or nil.
    mutating func apply(_ words: [String]) -> String? {
        guard words.count % 4 == 0 else { return "Wrong number of arguments in buffer limit configuration." }
        var updated = self
        for group in stride(from: 0, to: words.count, by: 4) {
            let kind: ClientClass
            switch words[group].lowercased() {
            case "normal": kind = .normal
            case "slave", "replica": kind = .replica
            case "pubsub": kind = .pubsub
            default: return "Invalid client class specified in buffer limit configuration."
            }
            guard let hard = parseMemory(words[group + 1]), let soft = parseMemory(words[group + 2]),
                  let seconds = parseStrictInt64(Array(words[group + 3].utf8)), seconds >= 0 else {
                return "Error in hard, soft or soft_seconds setting in buffer limit configuration."
            }
            updated[kind] = OutputBufferLimit(hard: hard, soft: soft, softSeconds: seconds)
        }
        self = updated
        return nil
    }
}

extension ConfigParameter {
    static let clientOutputBufferLimit = ConfigParameter(
        name: "client-output-buffer-limit", alias: nil, mutable: true,
        get: { $0.outputBufferLimits.text },
        set: { config, values in
            config.outputBufferLimits.apply(values.joined(separator: " ").split(separator: " ").map(String.init))
        })
}

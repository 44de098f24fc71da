/// Where one client connection stands, as a value: each event the handler meets (input
/// arrived, a batch ran, the client was parked or released, its batch went to the script
/// thread and came back, the channel closed) is a mutating method that moves the state and
/// returns what to do. `ConnectionHandler` carries the actions out; it keeps the channel, the
/// buffers and the timers, and this type keeps every decision about them. No NIO in here.
///
/// The states, and the events that move between them:
///
///     registering ──registered──▶ serving ──a command parks──▶ parked
///          │                      │  ▲  ▲◀────────released──────┘
///          │                      │  │  └── batchEnded (early release)
///          │               offload│  │batchEnded
///          │                      ▼  │
///          │                    offloaded ──batchEnded, parked──▶ parked
///          └──── any state: QUIT, protocol error, output cap, refused ──▶ closing ──▶ closed
///
/// Alongside the state, the cursor in the decoded batch: `nextCommand`, the command to run
/// next (past 0 while the batch is cut by a parked command or the script thread), and
/// `protocolError`, met after the decoded commands and replied once they have all run.
import AtollCore
import AtollRESP

struct ConnectionStateMachine {
    enum State {
        /// Not yet added to the server: a busy script held the lock when the client came.
        /// Input waits, or is answered BUSY as the `provisional` session (made for the first
        /// answer; AUTH, HELLO, MULTI and QUIT act on it), the one registered later.
        case registering(provisional: ClientSession?)
        /// Registered: input runs as it arrives.
        case serving(ClientSession)
        /// A blocking command parked the client: the rest of the batch and new input wait for
        /// its release, and reading pauses.
        case parked(ClientSession)
        /// The rest of the batch runs on the script thread; input waits. `early` is what came
        /// meanwhile for a command that parked there (see `Notice`).
        case offloaded(ClientSession, early: Notice?)
        /// Replies still going out, then the channel closes; input and late events are
        /// ignored. Keeps the session so that `channelClosed` can remove it from the server.
        case closing(ClientSession?)
        /// The channel is gone.
        case closed
    }

    /// What can reach an offloaded client about a command that parked on the script thread,
    /// before its batch is back on the loop.
    enum Notice: Equatable {
        /// Parked until this deadline (Unix ms, 0 = none): arm the timeout once parked here.
        case deadline(Int64)
        /// Already released with this reply (served by another client meanwhile).
        case released([UInt8])
    }

    /// What to do with input that arrived.
    enum InputAction: Equatable {
        /// Closing: drop it.
        case discard
        /// Not registered yet: answer it as while a script is busy, or let it wait.
        case answerBusy
        /// Parked, or the batch is on the script thread: keep it (reading may pause).
        case wait
        /// Decode and run it.
        case run
    }

    /// What to do once a batch (or its part up to a parking command) ran.
    enum BatchEndAction: Equatable {
        /// Write the replies; the batch is done and the input runs on.
        case write
        /// Write the replies; a command parked the client and the rest of the batch waits.
        case writeAndWait
        /// Write the replies; the client is parked and its timeout is to be armed.
        case writeAndArm(deadline: Int64)
        /// Write the replies, then `reply`: a command parked on the script thread and was
        /// released before the batch came back. The rest of the batch runs on.
        case writeAndResume(reply: [UInt8])
        /// Write the replies, then close (QUIT, or the protocol error after them).
        case writeAndClose
        /// Drop the replies (they passed the output cap) and close.
        case close
    }

    /// After some commands were answered as while a script is busy.
    enum BusyAnswerAction: Equatable {
        /// Decode and answer more.
        case goOn
        /// Reply `protocolError` if any, send, then close (QUIT, or a protocol error).
        case closeAfter(protocolError: ProtocolError?)
    }

    /// What a release asks of the handler.
    enum ReleaseAction: Equatable {
        /// Write the reply, then run the input that waited.
        case resume
        /// Nothing (closing, already released, or kept for the batch on the script thread).
        case ignore
    }

    /// What a client may send while its input waits (on registration, or on its batch on the
    /// script thread) before reading pauses.
    static let waitingInputLimit = 64 * 1024

    private(set) var state: State = .registering(provisional: nil)
    /// Index in the decoded batch of the next command to run.
    private(set) var nextCommand = 0
    /// A protocol error met after the decoded commands, replied once they have all run.
    private(set) var protocolError: ProtocolError?
    /// Whether the channel reads (its autoRead option); see `readingChange`.
    private(set) var reading = true

    // MARK: - Registration

    /// The server added the client (its provisional session, if it has one).
    mutating func registered(_ session: ClientSession) {
        guard case .registering = state else { preconditionFailure("registered while \(state)") }
        state = .serving(session)
    }

    // MARK: - Input and batches

    mutating func inputArrived() -> InputAction {
        switch state {
        case .registering: return .answerBusy
        case .serving: return .run
        case .parked, .offloaded: return .wait
        case .closing, .closed: return .discard
        }
    }

    /// Whether decoded input runs now.
    var isServing: Bool {
        if case .serving = state { return true }
        return false
    }

    /// The decoder met bad input after the commands decoded before it.
    mutating func protocolErrorMet(_ error: ProtocolError) {
        protocolError = error
    }

    /// `ran` commands ran on the loop and the rest of the batch goes to the script thread.
    /// Returns the index it starts at.
    mutating func offloaded(after ran: Int) -> Int {
        guard case .serving(let session) = state else { preconditionFailure("offloaded while \(state)") }
        nextCommand += ran
        state = .offloaded(session, early: nil)
        return nextCommand
    }

    /// `ran` commands ran, on the loop or on the script thread. `parked`: the last parked
    /// the client; `closeAfterReply`: the client asked to close (QUIT); `overflowed`: the
    /// replies passed the output cap.
    mutating func batchEnded(ran: Int, parked: Bool, closeAfterReply: Bool, overflowed: Bool) -> BatchEndAction {
        let session: ClientSession
        var early: Notice?
        switch state {
        case .serving(let current): session = current
        case .offloaded(let current, let notice): session = current; early = notice
        case .registering, .parked, .closing, .closed: preconditionFailure("batch ended while \(state)")
        }
        nextCommand += ran
        if overflowed {
            state = .closing(session)
            return .close
        }
        if parked {
            switch early {
            case .released(let reply)?:
                state = .serving(session)
                return .writeAndResume(reply: reply)
            case .deadline(let deadline)?:
                state = .parked(session)
                return .writeAndArm(deadline: deadline)
            case nil:
                state = .parked(session)
                return .writeAndWait
            }
        }
        let failed = protocolError != nil
        nextCommand = 0
        protocolError = nil
        if closeAfterReply || failed {
            state = .closing(session)
            return .writeAndClose
        }
        state = .serving(session)
        return .write
    }

    // MARK: - While a script is busy

    /// The client to answer as while a script is busy: the registered one, or the provisional
    /// session of one not yet registered (made by `makeSession` the first time). Nil while
    /// parked, offloaded or closing.
    mutating func busyClient(makeSession: () -> ClientSession) -> ClientSession? {
        switch state {
        case .serving(let session), .registering(provisional: let session?):
            return session
        case .registering(provisional: nil):
            let session = makeSession()
            state = .registering(provisional: session)
            return session
        case .parked, .offloaded, .closing, .closed:
            return nil
        }
    }

    /// The decoded batch was answered as while busy.
    mutating func answeredBusy(closeAfterReply: Bool) -> BusyAnswerAction {
        nextCommand = 0
        guard closeAfterReply || protocolError != nil else { return .goOn }
        let error = protocolError
        protocolError = nil
        state = .closing(registeredSession)
        return .closeAfter(protocolError: error)
    }

    // MARK: - Parking

    /// The server parked the client until `deadline` (also when a timeout came early by the
    /// wall clock). True if the timeout is to be armed now.
    mutating func parkedUntil(_ deadline: Int64) -> Bool {
        switch state {
        case .parked:
            return true
        case .offloaded(let session, early: nil):
            // It parked on the script thread: armed once the batch is back (see `batchEnded`).
            state = .offloaded(session, early: .deadline(deadline))
            return false
        default:
            // Released already (a late re-arm), or closing.
            return false
        }
    }

    /// The parked client was released with `reply`.
    mutating func released(reply: [UInt8]) -> ReleaseAction {
        switch state {
        case .parked(let session):
            state = .serving(session)
            return .resume
        case .offloaded(let session, _):
            // Served while the script thread still held the batch: kept until it is back.
            state = .offloaded(session, early: .released(reply))
            return .ignore
        default:
            return .ignore
        }
    }

    // MARK: - Closing

    /// The handler closes the connection (query buffer limit, server full).
    mutating func closeStarted() {
        switch state {
        case .closing, .closed: return
        default: state = .closing(registeredSession)
        }
    }

    /// The channel closed. Returns the session to remove from the server, if it was added.
    mutating func channelClosed() -> ClientSession? {
        let session = registeredSession
        state = .closed
        return session
    }

    private var registeredSession: ClientSession? {
        switch state {
        case .serving(let session), .parked(let session), .offloaded(let session, _): return session
        case .closing(let session): return session
        case .registering, .closed: return nil
        }
    }

    // MARK: - Reading

    /// Whether the channel should read now, if that changed: not while parked (its input
    /// waits), not while the socket does not drain (`writable`, back-pressure), not while
    /// closing, and not while input waits on registration or on the script thread once more
    /// than `waitingInputLimit` is buffered. The option changes only when this answer does
    /// (each change is a system call, so a script's trip to the script thread pays none).
    mutating func readingChange(bufferedInput: Int, writable: Bool) -> Bool? {
        let wanted: Bool
        switch state {
        case .serving: wanted = writable
        case .registering, .offloaded: wanted = writable && bufferedInput <= Self.waitingInputLimit
        case .parked, .closing, .closed: wanted = false
        }
        guard wanted != reading else { return nil }
        reading = wanted
        return wanted
    }
}

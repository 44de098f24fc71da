/// The connection state machine on its own: events in, actions out, no sockets.
import AtollCore
import AtollRESP
@testable import AtollServer
import Testing

private func makeSession(id: Int64 = 1) -> ClientSession {
    ClientSession(id: id, authenticated: true, address: "127.0.0.1:1", localAddress: "127.0.0.1:6379", now: 0,
                  connection: nil)
}

/// The state's name, and its session if it has one (compared by identity).
private func phase(_ machine: ConnectionStateMachine) -> (name: String, session: ClientSession?) {
    switch machine.state {
    case .registering(let provisional): return ("registering", provisional)
    case .serving(let session): return ("serving", session)
    case .parked(let session): return ("parked", session)
    case .offloaded(let session, _): return ("offloaded", session)
    case .closing(let session): return ("closing", session)
    case .closed: return ("closed", nil)
    }
}

/// A machine whose client is registered with `session`.
private func serving(_ session: ClientSession) -> ConnectionStateMachine {
    var machine = ConnectionStateMachine()
    machine.registered(session)
    return machine
}

private let badLength = ProtocolError("Protocol error: invalid bulk length")

@Suite struct ConnectionStateMachineTests {
    // MARK: - Registration

    @Test func registeringAnswersBusyWithOneProvisionalSession() {
        var machine = ConnectionStateMachine()
        #expect(machine.inputArrived() == .answerBusy)
        var made = 0
        let provisional = makeSession()
        let first = machine.busyClient { made += 1; return provisional }
        let second = machine.busyClient { made += 1; return makeSession(id: 2) }
        #expect(made == 1)
        #expect(first === provisional && second === provisional)
        #expect(machine.answeredBusy(closeAfterReply: false) == .goOn)
        // The provisional session is the one registered.
        machine.registered(provisional)
        #expect(phase(machine).name == "serving" && phase(machine).session === provisional)
        #expect(machine.inputArrived() == .run)
    }

    @Test func refusedRegistrationClosesWithoutASessionToRemove() {
        var machine = ConnectionStateMachine()
        machine.closeStarted()
        #expect(phase(machine).name == "closing")
        #expect(machine.inputArrived() == .discard)
        #expect(machine.busyClient { makeSession() } == nil)
        #expect(machine.channelClosed() == nil)
        #expect(phase(machine).name == "closed")
    }

    @Test func quitWhileRegisteringClosesWithoutASessionToRemove() {
        var machine = ConnectionStateMachine()
        _ = machine.busyClient { makeSession() }
        #expect(machine.answeredBusy(closeAfterReply: true) == .closeAfter(protocolError: nil))
        #expect(phase(machine).name == "closing" && phase(machine).session == nil)
        #expect(machine.channelClosed() == nil)
    }

    @Test func protocolErrorWhileRegisteringIsRepliedThenCloses() {
        var machine = ConnectionStateMachine()
        _ = machine.busyClient { makeSession() }
        machine.protocolErrorMet(badLength)
        #expect(machine.answeredBusy(closeAfterReply: false) == .closeAfter(protocolError: badLength))
        #expect(machine.protocolError == nil)
        #expect(machine.inputArrived() == .discard)
    }

    // MARK: - Batches on the loop

    @Test func aBatchRunsAndTheInputGoesOn() {
        let session = makeSession()
        var machine = serving(session)
        #expect(machine.inputArrived() == .run)
        #expect(machine.isServing)
        #expect(machine.batchEnded(ran: 16, parked: false, closeAfterReply: false, overflowed: false) == .write)
        #expect(machine.nextCommand == 0)
        #expect(phase(machine).name == "serving" && phase(machine).session === session)
    }

    @Test func busyWhileServingAnswersTheRestOfTheBatch() {
        let session = makeSession()
        var machine = serving(session)
        #expect(machine.busyClient { makeSession(id: 2) } === session)
        #expect(machine.answeredBusy(closeAfterReply: false) == .goOn)
        #expect(machine.isServing)
        #expect(machine.answeredBusy(closeAfterReply: true) == .closeAfter(protocolError: nil))
        #expect(phase(machine).name == "closing")
        #expect(machine.channelClosed() === session)
    }

    @Test func quitClosesAfterTheReplies() {
        let session = makeSession()
        var machine = serving(session)
        #expect(machine.batchEnded(ran: 2, parked: false, closeAfterReply: true, overflowed: false) == .writeAndClose)
        #expect(machine.inputArrived() == .discard)
        #expect(!machine.isServing)
        // The registered session is still removed from the server when the channel goes.
        #expect(machine.channelClosed() === session)
        #expect(machine.inputArrived() == .discard)
    }

    @Test func protocolErrorAfterTheDecodedCommandsClosesAfterThem() {
        var machine = serving(makeSession())
        machine.protocolErrorMet(badLength)
        #expect(machine.protocolError == badLength)
        #expect(machine.batchEnded(ran: 3, parked: false, closeAfterReply: false, overflowed: false) == .writeAndClose)
        #expect(machine.protocolError == nil)
        #expect(phase(machine).name == "closing")
    }

    @Test func repliesPastTheOutputCapCloseAtOnce() {
        var machine = serving(makeSession())
        #expect(machine.batchEnded(ran: 1, parked: false, closeAfterReply: false, overflowed: true) == .close)
        #expect(phase(machine).name == "closing")
        // Also when the last command parked.
        var parkedToo = serving(makeSession())
        #expect(parkedToo.batchEnded(ran: 1, parked: true, closeAfterReply: false, overflowed: true) == .close)
        #expect(phase(parkedToo).name == "closing")
        #expect(parkedToo.parkedUntil(5) == false)
    }

    @Test func queryBufferLimitClosesAndKeepsTheSessionToRemove() {
        let session = makeSession()
        var machine = serving(session)
        machine.closeStarted()
        machine.closeStarted()
        #expect(machine.inputArrived() == .discard)
        #expect(machine.channelClosed() === session)
    }

    // MARK: - Parking

    @Test func aBlockingCommandMidBatchParksAndTheBatchResumesAfterIt() {
        let session = makeSession()
        var machine = serving(session)
        #expect(machine.batchEnded(ran: 3, parked: true, closeAfterReply: false, overflowed: false) == .writeAndWait)
        #expect(phase(machine).name == "parked")
        #expect(machine.nextCommand == 3)
        #expect(machine.inputArrived() == .wait)
        #expect(machine.busyClient { makeSession(id: 2) } == nil)
        #expect(machine.parkedUntil(1_000) == true)
        #expect(machine.released(reply: Array("$1\r\nx\r\n".utf8)) == .resume)
        #expect(machine.isServing)
        #expect(machine.nextCommand == 3)
        // The rest of the batch.
        #expect(machine.batchEnded(ran: 13, parked: false, closeAfterReply: false, overflowed: false) == .write)
        #expect(machine.nextCommand == 0)
    }

    @Test func aLateReArmAfterTheReleaseIsIgnored() {
        var machine = serving(makeSession())
        _ = machine.batchEnded(ran: 1, parked: true, closeAfterReply: false, overflowed: false)
        #expect(machine.released(reply: []) == .resume)
        #expect(machine.parkedUntil(1_000) == false)
        #expect(machine.released(reply: []) == .ignore)
        #expect(machine.isServing)
    }

    @Test func protocolErrorAfterAParkedCommandIsRepliedAfterTheRelease() {
        var machine = serving(makeSession())
        machine.protocolErrorMet(badLength)
        #expect(machine.batchEnded(ran: 2, parked: true, closeAfterReply: false, overflowed: false) == .writeAndWait)
        // Kept while parked.
        #expect(machine.protocolError == badLength)
        #expect(machine.released(reply: []) == .resume)
        #expect(machine.protocolError == badLength)
        #expect(machine.nextCommand == 2)
        // The parked command was the last: nothing more runs, the error is replied, then close.
        #expect(machine.batchEnded(ran: 0, parked: false, closeAfterReply: false, overflowed: false) == .writeAndClose)
        #expect(machine.protocolError == nil && machine.nextCommand == 0)
        #expect(phase(machine).name == "closing")
    }

    @Test func closeWhileParked() {
        let session = makeSession()
        var machine = serving(session)
        _ = machine.batchEnded(ran: 1, parked: true, closeAfterReply: false, overflowed: false)
        // CLIENT KILL or a client timeout closes the channel.
        #expect(machine.channelClosed() === session)
        #expect(phase(machine).name == "closed")
        #expect(machine.released(reply: []) == .ignore)
        #expect(machine.parkedUntil(1_000) == false)
        #expect(machine.inputArrived() == .discard)
        #expect(machine.channelClosed() == nil)
    }

    // MARK: - The script thread

    @Test func anOffloadedBatchComesBackAndTheInputGoesOn() {
        let session = makeSession()
        var machine = serving(session)
        #expect(machine.offloaded(after: 2) == 2)
        #expect(phase(machine).name == "offloaded")
        #expect(machine.inputArrived() == .wait)
        #expect(machine.busyClient { makeSession(id: 2) } == nil)
        #expect(machine.batchEnded(ran: 14, parked: false, closeAfterReply: false, overflowed: false) == .write)
        #expect(machine.nextCommand == 0)
        #expect(phase(machine).name == "serving" && phase(machine).session === session)
    }

    @Test func aBatchThatParksOnTheScriptThreadParksHere() {
        var machine = serving(makeSession())
        #expect(machine.offloaded(after: 0) == 0)
        #expect(machine.batchEnded(ran: 2, parked: true, closeAfterReply: false, overflowed: false) == .writeAndWait)
        #expect(phase(machine).name == "parked")
        #expect(machine.nextCommand == 2)
        #expect(machine.released(reply: []) == .resume)
    }

    @Test func aDeadlineSetOnTheScriptThreadIsArmedWhenTheBatchIsBack() {
        var machine = serving(makeSession())
        _ = machine.offloaded(after: 1)
        // The script thread parked the client: its deadline comes before the batch does.
        #expect(machine.parkedUntil(1_234) == false)
        #expect(machine.batchEnded(ran: 2, parked: true, closeAfterReply: false, overflowed: false)
                == .writeAndArm(deadline: 1_234))
        #expect(phase(machine).name == "parked")
        #expect(machine.nextCommand == 3)
    }

    @Test func aReleaseAfterTheDeadlineWinsOverIt() {
        var machine = serving(makeSession())
        _ = machine.offloaded(after: 0)
        #expect(machine.parkedUntil(1_234) == false)
        #expect(machine.released(reply: [42]) == .ignore)
        #expect(machine.batchEnded(ran: 1, parked: true, closeAfterReply: false, overflowed: false)
                == .writeAndResume(reply: [42]))
        #expect(machine.isServing)
    }

    @Test func earlyReleaseWhileOffloadedIsWrittenWhenTheBatchIsBack() {
        var machine = serving(makeSession())
        _ = machine.offloaded(after: 1)
        // Another client served the command that parked on the script thread.
        let reply = Array("*2\r\n$1\r\nk\r\n$1\r\nv\r\n".utf8)
        #expect(machine.released(reply: reply) == .ignore)
        #expect(phase(machine).name == "offloaded")
        #expect(machine.batchEnded(ran: 2, parked: true, closeAfterReply: false, overflowed: false)
                == .writeAndResume(reply: reply))
        // Not parked: the rest of the batch runs on from after the released command.
        #expect(machine.isServing)
        #expect(machine.nextCommand == 3)
    }

    @Test func busyTakeBackOfAnOffloadedBatch() {
        let session = makeSession()
        var machine = serving(session)
        let start = machine.offloaded(after: 3)
        // Its commands from `start` were answered as while busy: the batch is done.
        #expect(machine.batchEnded(ran: 16 - start, parked: false, closeAfterReply: false, overflowed: false) == .write)
        #expect(machine.nextCommand == 0)
        #expect(machine.isServing)
        // With a protocol error after them: replied, then close.
        var failing = serving(makeSession())
        failing.protocolErrorMet(badLength)
        let from = failing.offloaded(after: 0)
        #expect(failing.protocolError == badLength)
        #expect(failing.batchEnded(ran: 4 - from, parked: false, closeAfterReply: false, overflowed: false)
                == .writeAndClose)
    }

    @Test func closeWhileOffloaded() {
        let session = makeSession()
        var machine = serving(session)
        _ = machine.offloaded(after: 0)
        #expect(machine.channelClosed() === session)
        // The batch's return is then ignored by the handler (it is no longer offloaded).
        #expect(phase(machine).name == "closed")
        #expect(machine.released(reply: []) == .ignore)
    }

    @Test func quitOnTheScriptThreadClosesAfterTheReplies() {
        var machine = serving(makeSession())
        _ = machine.offloaded(after: 0)
        #expect(machine.batchEnded(ran: 2, parked: false, closeAfterReply: true, overflowed: false) == .writeAndClose)
        #expect(phase(machine).name == "closing")
    }

    // MARK: - Reading

    @Test func readingFollowsTheStateAndBackPressure() {
        let limit = ConnectionStateMachine.waitingInputLimit
        var machine = ConnectionStateMachine()
        // Registering: reads until more than the limit waits.
        #expect(machine.readingChange(bufferedInput: limit, writable: true) == nil)
        #expect(machine.readingChange(bufferedInput: limit + 1, writable: true) == false)
        #expect(machine.reading == false)
        machine.registered(makeSession())
        // Serving: reads whatever is buffered, unless the socket does not drain.
        #expect(machine.readingChange(bufferedInput: limit + 1, writable: true) == true)
        #expect(machine.readingChange(bufferedInput: 0, writable: true) == nil)
        #expect(machine.readingChange(bufferedInput: 0, writable: false) == false)
        #expect(machine.readingChange(bufferedInput: 0, writable: true) == true)
        // Offloaded: like registering.
        _ = machine.offloaded(after: 0)
        #expect(machine.readingChange(bufferedInput: 10, writable: true) == nil)
        #expect(machine.readingChange(bufferedInput: limit + 1, writable: true) == false)
        // Parked: never.
        _ = machine.batchEnded(ran: 1, parked: true, closeAfterReply: false, overflowed: false)
        #expect(machine.readingChange(bufferedInput: 0, writable: true) == nil)
        #expect(machine.reading == false)
        _ = machine.released(reply: [])
        #expect(machine.readingChange(bufferedInput: 0, writable: true) == true)
        // Closing: never.
        machine.closeStarted()
        #expect(machine.readingChange(bufferedInput: 0, writable: true) == false)
    }
}
